//! The dsl's integration tests: one binary, one module per concern.

mod codes;
mod diagnostics;
mod editor_grammar;
mod fmt;
mod props;

use crmmap_dsl::SourceMap;

/// The workspace root (fixtures, mappings and docs are addressed from there).
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A source map holding one file, named by its path relative to the workspace root.
pub fn one_file(path: &std::path::Path) -> SourceMap {
    let text = std::fs::read_to_string(path).unwrap();
    let path = path.canonicalize().unwrap();
    let name = path
        .strip_prefix(root())
        .unwrap_or(&path)
        .to_string_lossy()
        .replace('\\', "/");
    let mut map = SourceMap::new();
    map.add(name, text);
    map
}

/// Every `.crmmap` file directly in `dir` (relative to the workspace root), sorted.
pub fn crmmap_files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "crmmap"))
        .collect();
    files.sort();
    files
}
