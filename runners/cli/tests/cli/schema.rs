//! `crmmap schema pull` against the emulators, and `crmmap check --schema` with what it pulled.

use std::path::Path;

use crate::root;
use assert_cmd::Command;
use crmmap_testkit::{Emulators, cli_env};

fn emulator_env(cmd: &mut Command) -> &mut Command {
    cmd.envs(cli_env()).env("NO_COLOR", "1")
}

fn check_with(dir: &Path, paths: &[&str]) -> (i32, String) {
    let mut cmd = Command::cargo_bin("crmmap").unwrap();
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .arg("check")
        .arg("--schema")
        .arg(dir);
    let out = cmd.args(paths).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn pulled_schema_accepts_the_shipped_mappings_and_names_every_drift() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("crmmap.toml");
    std::fs::write(&config_path, emu.config_toml(None)).unwrap();
    let snapshot = dir.path().join("schema");

    let mut pull = Command::cargo_bin("crmmap").unwrap();
    emulator_env(&mut pull)
        .arg("schema")
        .arg("pull")
        .arg("--config")
        .arg(&config_path)
        .arg("--out")
        .arg(&snapshot);
    let out = tokio::task::spawn_blocking(move || pull.output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pulled = crmmap_sync::schema::read_dir(&snapshot).unwrap();
    assert_eq!(pulled.boards.len(), 4);
    assert_eq!(pulled.sobjects.len(), 4);
    let lead = pulled.sobject("Lead").unwrap().field("Status").unwrap();
    assert!(lead.restricted_picklist);
    assert!(lead.picklist_values.iter().any(|v| v == "Qualified"));

    let (code, stderr) = check_with(&snapshot, &["mappings"]);
    assert_eq!(code, 0, "{stderr}");

    let (code, stderr) = check_with(&snapshot, &["tests/fixtures/schema/drifted.crmmap"]);
    assert_eq!(code, 1);
    for c in [
        "E0601", "E0602", "E0603", "E0604", "E0605", "E0606", "E0607", "E0608",
    ] {
        assert!(stderr.contains(c), "{c} missing:\n{stderr}");
    }
    let stderr = stderr.replace(&snapshot.display().to_string(), "<snapshot>");
    insta::assert_snapshot!(stderr);
}
