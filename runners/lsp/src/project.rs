//! The mappings a file belongs to: `crmmap.toml` found by walking up from the file, its
//! mappings folder and `[check] schema`, the files on disk with the open buffers over them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crmmap_dsl::schema::SchemaSnapshot;
use crmmap_dsl::{FileId, SourceMap};

/// The sources and snapshot of one mappings folder, as the editor sees them.
pub struct Project {
    /// Every mapping file, open buffers overriding disk.
    pub map: SourceMap,
    /// The file's path of each id, in `map`'s order.
    pub paths: Vec<PathBuf>,
    /// The snapshot of `[check] schema`, when `crmmap.toml` names one that reads.
    pub snapshot: Option<SchemaSnapshot>,
    /// Problems with the configuration or the snapshot, to show once.
    pub warnings: Vec<String>,
}

impl Project {
    /// The project of `file`: the folder `crmmap.toml` names, else the file's own folder.
    pub fn of(file: &Path, open: &BTreeMap<PathBuf, String>) -> Project {
        let mut warnings = Vec::new();
        let mut snapshot = None;
        let folder = match find_config(file) {
            Some(config) => match crmmap_sync::Settings::load(Some(&config)) {
                Ok(settings) => {
                    if let Some(dir) = &settings.check_schema {
                        match crmmap_sync::schema::read_dir(dir) {
                            Ok(s) => snapshot = Some(s),
                            Err(e) => warnings.push(format!("{e}; checking without the snapshot")),
                        }
                    }
                    settings.mappings
                }
                Err(e) => {
                    warnings.push(e.to_string());
                    parent(file)
                }
            },
            None => parent(file),
        };
        let folder = canonical(&folder);
        let mut files: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
        if let Ok(on_disk) = crmmap_sync::mappings::collect(std::slice::from_ref(&folder)) {
            for p in on_disk {
                files.insert(canonical(&p), None);
            }
        }
        for (path, text) in open {
            if path.starts_with(&folder) && path.extension().is_some_and(|e| e == "crmmap") {
                files.insert(path.clone(), Some(text.clone()));
            }
        }
        // A file outside the folder is still checked, with the folder's tables and objects.
        if let Some(text) = open.get(file) {
            files.insert(file.to_owned(), Some(text.clone()));
        }
        let mut map = SourceMap::new();
        let mut paths = Vec::new();
        for (path, text) in files {
            let text = match text {
                Some(t) => t,
                None => match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        warnings.push(format!("cannot read `{}`: {e}", path.display()));
                        continue;
                    }
                },
            };
            map.add(path.display().to_string(), text);
            paths.push(path);
        }
        Project {
            map,
            paths,
            snapshot,
            warnings,
        }
    }

    /// The id of `path` in the map.
    pub fn id(&self, path: &Path) -> Option<FileId> {
        let index = self.paths.iter().position(|p| p == path)?;
        u32::try_from(index).ok().map(FileId)
    }

    /// The path of `id`.
    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.paths.get(id.0 as usize).map(PathBuf::as_path)
    }
}

/// The nearest `crmmap.toml` in the file's folder or above.
fn find_config(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .map(|dir| dir.join(crmmap_sync::config::DEFAULT_CONFIG))
        .find(|p| p.is_file())
}

fn parent(file: &Path) -> PathBuf {
    file.parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// The path with links and `..` resolved when it exists (open buffers and files on disk are
/// compared this way).
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}
