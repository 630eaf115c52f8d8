//! Finding and reading mapping files.

use std::path::{Path, PathBuf};

use crmmap_dsl::SourceMap;

/// The directory used when no path is given.
pub const DEFAULT_MAPPINGS: &str = "mappings";

/// Every `.crmmap` file under `paths` (files as given, directories searched recursively),
/// sorted within each directory so runs are deterministic.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let defaults = [PathBuf::from(DEFAULT_MAPPINGS)];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)
                .map_err(|e| format!("cannot read directory `{}`: {e}", p.display()))?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("`{}` does not exist", p.display()));
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
pub fn load(paths: &[PathBuf]) -> Result<SourceMap, String> {
    let files = collect(paths)?;
    if files.is_empty() {
        return Err("no `.crmmap` files found".into());
    }
    let mut map = SourceMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| format!("cannot read `{}`: {e}", f.display()))?;
        map.add(f.display().to_string(), text);
    }
    Ok(map)
}
