//! `crmmap migrate --watch`: the polling fallback keeps migrating until it is told to stop.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crmmap_testkit::{Emulators, eventually};

use crate::busy::crmmap;

/// The Account board of the shipped mappings.
const ACCOUNTS: u64 = 9378000326;

#[tokio::test(flavor = "multi_thread")]
async fn watch_carries_a_later_salesforce_edit_and_stops_cleanly_on_sigterm() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = emu.write_config(dir.path());
    let mut child = crmmap(&["migrate", "--watch", "1s"], &config)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    std::thread::spawn({
        let log = log.clone();
        move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line);
            }
        }
    });
    let lines = || log.lock().unwrap().clone();

    // The first run creates the items.
    eventually("the first run ends", || {
        let done = lines().iter().any(|l| l.contains(" run 1: "));
        async move { done }
    })
    .await;
    let first = lines();
    let run1 = first.iter().find(|l| l.contains(" run 1: ")).unwrap();
    assert!(
        run1.contains("created") && run1.contains("next in 1s"),
        "{first:?}"
    );
    let accounts = emu.monday.state().active_items(ACCOUNTS);
    assert!(!accounts.is_empty(), "{first:?}");

    // A later edit in Salesforce reaches monday without anyone running crmmap again.
    let record = emu
        .salesforce
        .state()
        .records("Account")
        .into_iter()
        .next()
        .unwrap();
    let id = record["Id"].as_str().unwrap().to_string();
    let old = record["Name"].as_str().unwrap().to_string();
    assert!(accounts.iter().any(|i| i.name == old));
    assert!(
        emu.salesforce
            .state()
            .update_record(&id, serde_json::json!({"Name": "Renamed While Watching"}))
    );
    eventually("the rename reaches monday", || {
        let renamed = emu
            .monday
            .state()
            .active_items(ACCOUNTS)
            .iter()
            .any(|i| i.name == "Renamed While Watching");
        async move { renamed }
    })
    .await;
    eventually("a run reports the update", || {
        let reported = lines().iter().any(|l| l.contains(", 1 updated, "));
        async move { reported }
    })
    .await;

    // SIGTERM (what a container runtime sends) ends the loop with exit 0.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || {
        for _ in 0..300 {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        None
    })
    .await
    .unwrap()
    .expect("crmmap migrate --watch did not stop within 30 s of SIGTERM");
    assert_eq!(status.code(), Some(0), "{:?}", lines());
}

#[test]
fn watch_and_dry_run_do_not_go_together() {
    let dir = tempfile::tempdir().unwrap();
    let out = crmmap(
        &["migrate", "--watch", "5m", "--dry-run"],
        &dir.path().join("crmmap.toml"),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
