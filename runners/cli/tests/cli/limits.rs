//! Exit codes 69 (an API limit stops the run, checkpoint saved) and 78 (the configuration names
//! a board monday does not have), with messages that say which limit or board, against the
//! emulators over HTTP.

use std::path::{Path, PathBuf};

use crate::busy::{crmmap, run};
use crate::root;

struct Emulators {
    sf: crmmap_emu_salesforce::RunningEmulator,
    monday: crmmap_emu_monday::RunningEmulator,
}

async fn emulators() -> Emulators {
    Emulators {
        sf: crmmap_emu_salesforce::start(crmmap_emu_salesforce::EmulatorOptions::default())
            .await
            .unwrap(),
        monday: crmmap_emu_monday::start(crmmap_emu_monday::EmulatorOptions::default())
            .await
            .unwrap(),
    }
}

fn config(dir: &Path, emu: &Emulators) -> PathBuf {
    let store = format!("sqlite://{}", dir.join("state.db").display());
    let path = dir.join("crmmap.toml");
    std::fs::write(
        &path,
        format!(
            "mappings = \"{}\"\n[store]\nurl = \"{store}\"\n[salesforce]\nlogin_url = \"{}\"\nauth = \"client_credentials\"\n[monday]\napi_url = \"{}\"\n",
            root().join("mappings").display(),
            emu.sf.base_url(),
            emu.monday.base_url()
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_limit_exits_69_naming_the_limit_and_its_reset_and_the_next_run_resumes() {
    let emu = emulators().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &emu);
    emu.monday.state().set_daily_limit(Some(6));

    let out = run(crmmap(&["migrate"], &config)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains("daily API call limit"), "{stderr}");
    assert!(stderr.contains("resets at"), "{stderr}");
    assert!(stderr.contains("checkpoint is saved"), "{stderr}");

    emu.monday.state().start_next_day();
    emu.monday.state().set_daily_limit(None);
    let out = run(crmmap(&["migrate"], &config)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("resumed an unfinished run"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_salesforce_allocation_share_migrate_exits_69_naming_the_usage() {
    let emu = emulators().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &emu);
    emu.sf.set_daily_api_limit(10_000);
    emu.sf.set_api_usage(9_500);

    let out = run(crmmap(&["migrate"], &config)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains("API allocation reached"), "{stderr}");
    assert!(stderr.contains("of its 10000 daily API calls"), "{stderr}");
    assert_eq!(emu.sf.counters().queries(), 0, "no data call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_board_exits_78_naming_it() {
    let emu = emulators().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &emu);
    let lead = crmmap_sync::mappings::load(&[root().join("mappings")])
        .unwrap()
        .plan("Lead")
        .unwrap()
        .board;
    emu.monday
        .state()
        .with_account(|a| a.boards.remove(&lead))
        .expect("the sample has the Lead board");

    let out = run(crmmap(&["migrate"], &config)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains(&format!("names monday board {lead}")),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was unlinked"), "{stderr}");
}
