//! The `crmmap` command line: stdout, stderr and exit code, as snapshots.

use crate::root;
use assert_cmd::Command;

/// Runs `crmmap` from the workspace root with colours off: exit code, stdout and stderr as one
/// text, for snapshots.
pub(crate) fn crmmap(args: &[&str]) -> String {
    let out = Command::cargo_bin("crmmap")
        .unwrap()
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .args(args)
        .output()
        .unwrap();
    format!(
        "exit: {}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn check_of_the_shipped_mappings_is_clean() {
    insta::assert_snapshot!(crmmap(&["check", "mappings"]));
}

#[test]
fn check_reports_every_problem_and_exits_1() {
    insta::assert_snapshot!(crmmap(&["check", "tests/fixtures/cli/broken"]));
}

#[test]
fn check_json_and_github_formats() {
    insta::assert_snapshot!(
        "json",
        crmmap(&[
            "check",
            "--format",
            "json",
            "dsl/tests/fixtures/check/E0401_writes_read_only.crmmap"
        ])
    );
    insta::assert_snapshot!(
        "github",
        crmmap(&[
            "check",
            "--format",
            "github",
            "dsl/tests/fixtures/check/E0401_writes_read_only.crmmap"
        ])
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    insta::assert_snapshot!("missing_path", crmmap(&["check", "no/such/dir"]));
    let out = Command::cargo_bin("crmmap")
        .unwrap()
        .args(["check", "--format", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The plans are snapshotted once, with the engine's tests; the CLI prints exactly that text.
#[test]
fn explain_prints_the_four_plans() {
    let plans = crmmap_testkit::shipped_plans_snapshot();
    let expected = format!(
        "exit: 0\n--- stdout ---\n{}\n--- stderr ---\n",
        plans.trim_end()
    );
    assert_eq!(crmmap(&["explain", "mappings"]), expected);
}

#[test]
fn fmt_check_passes_on_mappings_and_shows_a_diff_otherwise() {
    insta::assert_snapshot!("clean", crmmap(&["fmt", "--check", "mappings"]));
    insta::assert_snapshot!(
        "diff",
        crmmap(&[
            "fmt",
            "--check",
            "dsl/tests/fixtures/fmt/messy_layout.crmmap"
        ])
    );
}

#[test]
fn fmt_writes_files_and_leaves_broken_ones_alone() {
    let dir = std::env::temp_dir().join(format!("crmmap-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.crmmap");
    let bad = dir.join("bad.crmmap");
    std::fs::write(&good, "object A { salesforce A board 1 key k }\n").unwrap();
    std::fs::write(&bad, "object A { salesforce }\n").unwrap();
    let out = Command::cargo_bin("crmmap")
        .unwrap()
        .arg("fmt")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "object A {\n  salesforce A\n  board 1\n  key k\n}\n"
    );
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "object A { salesforce }\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn prune_forgets_what_is_past_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let url = format!("sqlite://{}", db.display());
    let now = time::OffsetDateTime::now_utc();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use crmmap_store::{Action, EventOutcome, LogEntry, RunnerKind, Store};
        let store = Store::connect(&url).await.unwrap();
        for (key, age) in [("a-month-ago", 30), ("yesterday", 1)] {
            let at = now - time::Duration::days(age);
            store.begin_event(key, at).await.unwrap();
            store
                .finish_event(key, EventOutcome::Applied, None, at)
                .await
                .unwrap();
            store
                .append_log(&LogEntry::new(at, RunnerKind::Webhook, Action::Updated))
                .await
                .unwrap();
        }
        store.close().await;
    });
    let config = dir.path().join("crmmap.toml");
    std::fs::write(
        &config,
        format!("[store]\nurl = \"{url}\"\nkeep_events_days = 7\nkeep_log_days = 14\n"),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    insta::assert_snapshot!(crmmap(&["prune", "--config", config]));
    // Nothing is left to prune; with `keep_log_days = 0` the log is kept forever.
    std::fs::write(
        config,
        format!("[store]\nurl = \"{url}\"\nkeep_log_days = 0\n"),
    )
    .unwrap();
    insta::assert_snapshot!(crmmap(&["prune", "--config", config]));
}

/// The README's first command: the whole job on the emulators and SQLite, a monday change
/// that reaches Salesforce through the webhook runner, and a person's Salesforce edit that
/// reaches monday through the relay's change event.
#[test]
fn demo_runs_the_main_job_and_changes_reach_each_side() {
    let out = Command::cargo_bin("crmmap")
        .unwrap()
        .arg("demo")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 written back to Salesforce"), "{stdout}");
    assert!(stdout.contains("→ Pflugerville in Salesforce"), "{stdout}");
    assert!(
        stdout.contains("City → Cedar Park on monday: 1 monday write, 0 Salesforce reads"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ms from the commit to the monday write"),
        "{stdout}"
    );
}
