//! The engine stays pure: no runtime, HTTP client or database in its normal dependencies.

use std::process::Command;

#[test]
fn engine_has_no_io_dependencies() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "crmmap-engine",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(
        tree.contains("crmmap-engine"),
        "unexpected tree output: {tree}"
    );
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        for banned in ["tokio", "reqwest", "sqlx", "hyper", "axum", "mio"] {
            assert_ne!(name, banned, "crmmap-engine depends on {banned}:\n{tree}");
        }
    }
}
