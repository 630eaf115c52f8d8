//! Exit codes 69 (an API limit stops the run, checkpoint saved) and 78 (the configuration names
//! a board monday does not have), with messages that say which limit or board, against the
//! emulators over HTTP.

use crmmap_testkit::Emulators;

use crate::busy::{crmmap, run, serve};
use crate::root;

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_limit_exits_69_naming_the_limit_and_its_reset_and_the_next_run_resumes() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = emu.write_config(dir.path());
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
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = emu.write_config(dir.path());
    emu.salesforce.set_daily_api_limit(10_000);
    emu.salesforce.set_api_usage(9_500);

    let out = run(crmmap(&["migrate"], &config)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains("API allocation reached"), "{stderr}");
    assert!(stderr.contains("of its 10000 daily API calls"), "{stderr}");
    assert_eq!(emu.salesforce.counters().queries(), 0, "no data call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_board_exits_78_naming_it() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = emu.write_config(dir.path());
    let lead = crmmap_sync::mappings::load(&[root().join("mappings")])
        .unwrap()
        .plan("Lead")
        .unwrap()
        .board
        .get();
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

#[tokio::test(flavor = "multi_thread")]
async fn serve_queues_an_event_that_meets_a_monday_rate_limit_instead_of_waiting() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = emu.write_config(dir.path());
    let out = run(crmmap(&["migrate"], &config)).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lead = crmmap_sync::mappings::load(&[root().join("mappings")])
        .unwrap()
        .plan("Lead")
        .unwrap()
        .board
        .get();
    let item = emu.monday.state().active_items(lead)[0].id;
    // monday now refuses every request for the rest of its minute (60 s, reference §2.1).
    emu.monday.state().set_minute_limit(Some(0));

    let (_server, addr) = serve(&config).await;
    let event = serde_json::json!({ "event": {
        "app": "monday", "type": "update_name", "triggerTime": "2026-01-01T12:00:00.000Z",
        "subscriptionId": 1, "isRetry": false, "userId": 1, "originalTriggerUuid": null,
        "boardId": lead, "pulseId": item, "triggerUuid": "rate-limited-rename",
        "value": {"name": "Renamed"}, "previousValue": {"name": "Before"},
    }});
    // The client's own bound only guards against a hang: waiting out monday's minute would
    // take 60 s.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(45))
        .build()
        .unwrap();
    let answer = http
        .post(format!(
            "http://{addr}/webhooks/monday/a-secret-path-token-for-tests"
        ))
        .json(&event)
        .send()
        .await
        .expect("the delivery is answered without waiting for monday's minute");
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["outcome"], "queued", "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("rate limit"), "{body}");
    assert!(
        emu.monday.state().counters().minute_limited >= 1,
        "monday refused the event's call"
    );
}
