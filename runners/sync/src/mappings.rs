//! Loading mapping files from disk and compiling them into plans.

use std::path::{Path, PathBuf};

use crmmap_dsl::{Diagnostic, SourceMap, diag};
use crmmap_engine::PlanSet;

/// Why the mappings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MappingsError {
    /// A file or directory could not be read.
    #[error("{0}")]
    Io(String),
    /// The mappings have errors; the text is the rendered diagnostics.
    #[error("the mappings have errors; run `crmmap check` for details\n{0}")]
    Invalid(String),
}

/// Every `.crmmap` file under `paths` (files as given, directories searched recursively in
/// name order).
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, MappingsError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| {
                MappingsError::Io(format!("cannot read directory `{}`: {e}", p.display()))
            })?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(MappingsError::Io(format!(
                "`{}` does not exist",
                p.display()
            )));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "crmmap") {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads the files into a source map.
pub fn read(paths: &[PathBuf]) -> Result<SourceMap, MappingsError> {
    let files = collect(paths)?;
    if files.is_empty() {
        return Err(MappingsError::Io("no `.crmmap` files found".into()));
    }
    let mut map = SourceMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| MappingsError::Io(format!("cannot read `{}`: {e}", f.display())))?;
        map.add(f.display().to_string(), text);
    }
    Ok(map)
}

/// Reads, checks and compiles the mappings under `paths`.
pub fn load(paths: &[PathBuf]) -> Result<PlanSet, MappingsError> {
    let map = read(paths)?;
    let checked = crmmap_dsl::check_sources(&map);
    match checked.model {
        Some(model) => Ok(crmmap_engine::compile(&model)),
        None => Err(MappingsError::Invalid(render(&checked.diagnostics, &map))),
    }
}

fn render(diags: &[Diagnostic], map: &SourceMap) -> String {
    diag::render_human(diags, map, 100, false)
}
