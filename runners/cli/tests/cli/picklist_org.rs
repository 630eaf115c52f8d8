//! `crmmap check --schema` against an org whose `State` fields and custom status fields are
//! picklists: the shipped mappings declare them `string`, which changes nothing at run time (both
//! hold text), so each is a warning with its fix (W0604), not an error; free text written to a
//! restricted picklist is a warning too (W0606).

use std::path::Path;

use assert_cmd::Command;
use crmmap_dsl::schema::SchemaSnapshot;
use crmmap_testkit::{Emulators, cli_env};

use crate::root;

/// Pulls a schema snapshot of the shipped mappings' boards and sObjects from the emulators
/// into `out`.
pub async fn pull_from_emulators(dir: &Path, out: &Path) -> SchemaSnapshot {
    let emu = Emulators::start().await;
    let config_path = dir.join("crmmap.toml");
    std::fs::write(&config_path, emu.config_toml(None)).unwrap();
    let mut pull = Command::cargo_bin("crmmap").unwrap();
    pull.envs(cli_env())
        .env("NO_COLOR", "1")
        .current_dir(root())
        .arg("schema")
        .arg("pull")
        .arg("--config")
        .arg(&config_path)
        .arg("--out")
        .arg(out);
    let output = tokio::task::spawn_blocking(move || pull.output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    crmmap_sync::schema::read_dir(out).unwrap()
}

/// Runs `crmmap check --schema DIR` on `paths`: the exit code and stderr.
pub fn check_with_schema(schema: &Path, paths: &[&Path]) -> (i32, String) {
    let mut cmd = Command::cargo_bin("crmmap").unwrap();
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .arg("check")
        .arg("--schema")
        .arg(schema)
        .args(paths);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Makes `sobject.field` a picklist with these values.
fn make_picklist(
    snapshot: &mut SchemaSnapshot,
    sobject: &str,
    field: &str,
    values: &[String],
    restricted: bool,
) {
    let f = snapshot
        .sobjects
        .iter_mut()
        .find(|s| s.name == sobject)
        .and_then(|s| s.fields.iter_mut().find(|f| f.name == field))
        .unwrap_or_else(|| panic!("{sobject}.{field} is not in the pulled snapshot"));
    f.field_type = "picklist".into();
    f.picklist_values = values.to_vec();
    f.restricted_picklist = restricted;
}

/// The number of diagnostics with this code in rendered `check` output.
fn count(stderr: &str, code: &str) -> usize {
    stderr.lines().filter(|l| l.trim() == code).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn state_and_status_picklists_are_warnings_with_fixes_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema");
    let mut snapshot = pull_from_emulators(dir.path(), &schema).await;

    // The state pickers' values are the labels the boards' state dropdowns offer; the board
    // of Lead has one (`dropdown_mkstb9d4`), so its labels are the org's states.
    let states = snapshot
        .board(9_378_000_505)
        .and_then(|b| b.column("dropdown_mkstb9d4"))
        .map(|c| c.labels.clone())
        .unwrap();
    assert!(!states.is_empty());
    let codes: Vec<String> = ["CA", "NY", "TX", "WA", "OR", "IL"]
        .map(String::from)
        .to_vec();
    let yes_no: Vec<String> = ["Yes", "No", "Prefer not to say"]
        .map(String::from)
        .to_vec();
    // State and country picklists are restricted in Salesforce; so are the status fields here.
    for (sobject, field, values) in [
        ("Lead", "State", &states),
        ("Lead", "StateCode", &codes),
        ("Account", "BillingState", &states),
        ("Account", "BillingStateCode", &codes),
        ("Contact", "MailingState", &states),
        ("Contact", "Veteran_Status__c", &yes_no),
        ("Contact", "Disability_Status__c", &yes_no),
    ] {
        make_picklist(&mut snapshot, sobject, field, values, true);
    }
    std::fs::remove_dir_all(&schema).unwrap();
    crmmap_sync::schema::write_dir(&snapshot, &schema).unwrap();

    let (code, stderr) = check_with_schema(&schema, &[Path::new("mappings")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("5 files checked: 0 errors, 12 warnings"),
        "{stderr}"
    );
    // One W0604 for each field declared `string` that is a picklist (the seven errors of the
    // old comparison), each with the fix.
    assert_eq!(count(&stderr, "W0604"), 7, "{stderr}");
    assert!(
        stderr.contains("help: write `State : picklist`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: write `Veteran_Status__c : picklist`"),
        "{stderr}"
    );
    // Free text columns written to the restricted ones: a value outside the list is refused
    // for that record, so a warning with the way out.
    assert_eq!(count(&stderr, "W0606"), 5, "{stderr}");
    // The state dropdowns' labels are all values of the restricted picklists: no E0606.
    assert_eq!(count(&stderr, "E0606"), 0, "{stderr}");

    // A label the restricted picklist lacks is refused by Salesforce on every write: an error.
    let mut missing = snapshot.clone();
    let fewer: Vec<String> = states.iter().skip(1).cloned().collect();
    make_picklist(&mut missing, "Lead", "State", &fewer, true);
    std::fs::remove_dir_all(&schema).unwrap();
    crmmap_sync::schema::write_dir(&missing, &schema).unwrap();
    let (code, stderr) = check_with_schema(&schema, &[Path::new("mappings")]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(count(&stderr, "E0606"), 1, "{stderr}");
    assert!(stderr.contains(&format!("`{}`", states[0])), "{stderr}");
}
