//! `crmmap init` for each shipped board, from a snapshot pulled from the emulators: what it
//! writes passes `check --schema` and `fmt --check`, and how it compares with the hand-written
//! mappings in `mappings/` (fields matched, missed and wrong), printed as a table.

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;
use crmmap_dsl::model::Model;
use crmmap_dsl::schema::SchemaSnapshot;

use crate::picklist_org::{check_with_schema, pull_from_emulators};
use crate::root;

/// The shipped objects: name, sObject, board.
const SHIPPED: [(&str, &str, u64); 4] = [
    ("Lead", "Lead", 9_378_000_505),
    ("Account", "Account", 9_378_000_326),
    ("Contact", "Contact", 9_429_890_440),
    ("Opportunity", "Opportunity", 9_378_000_036),
];

fn crmmap(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::cargo_bin("crmmap")
        .unwrap()
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `(column, field)` pairs of an object's field lines.
fn pairs(model: &Model, object: &str) -> BTreeSet<(String, String)> {
    model
        .object(object)
        .map(|o| {
            o.fields
                .iter()
                .map(|f| (f.column.clone(), f.field.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn model_of(paths: &[&Path], snapshot: Option<&SchemaSnapshot>) -> Model {
    let map =
        crmmap_sync::mappings::read(&paths.iter().map(|p| p.to_path_buf()).collect::<Vec<_>>())
            .unwrap();
    let checked = crmmap_dsl::check_sources_with_schema(&map, snapshot);
    checked
        .model
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics))
}

/// The direction of each `(column, field)` pair.
fn directions(model: &Model, object: &str) -> Vec<((String, String), &'static str)> {
    model
        .object(object)
        .map(|o| {
            o.fields
                .iter()
                .map(|f| ((f.column.clone(), f.field.clone()), f.direction.arrow()))
                .collect()
        })
        .unwrap_or_default()
}

/// One board's comparison.
struct Row {
    object: &'static str,
    hand: usize,
    matched: usize,
    same_direction: usize,
    missed: usize,
    wrong: usize,
    extra: usize,
    left_out: usize,
}

#[tokio::test(flavor = "multi_thread")]
async fn init_writes_a_clean_first_mapping_for_every_shipped_board_and_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema");
    let snapshot = pull_from_emulators(dir.path(), &schema).await;
    let hand = model_of(&[&root().join("mappings")], None);

    let mut rows = Vec::new();
    for (object, sobject, board) in SHIPPED {
        let out = dir.path().join(format!("{}.crmmap", object.to_lowercase()));
        let board_arg = board.to_string();
        let (code, _, stderr) = crmmap(&[
            "init".as_ref(),
            "--schema".as_ref(),
            schema.as_os_str(),
            "--object".as_ref(),
            object.as_ref(),
            "--board".as_ref(),
            board_arg.as_ref(),
            "--salesforce".as_ref(),
            sobject.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(code, 0, "{object}: {stderr}");
        assert!(stderr.contains("columns matched to fields"), "{stderr}");
        // Never replaces a file.
        let (code, _, stderr) = crmmap(&[
            "init".as_ref(),
            "--schema".as_ref(),
            schema.as_os_str(),
            "--object".as_ref(),
            object.as_ref(),
            "--board".as_ref(),
            board_arg.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("never replaces"), "{stderr}");

        let (code, stderr) = check_with_schema(&schema, &[&out]);
        assert_eq!(
            code,
            0,
            "{object}: {stderr}\n{}",
            std::fs::read_to_string(&out).unwrap()
        );
        assert!(stderr.contains(": 0 errors"), "{stderr}");
        let (code, stdout, stderr) = crmmap(&["fmt".as_ref(), "--check".as_ref(), out.as_os_str()]);
        assert_eq!(code, 0, "{object}: {stdout}{stderr}");

        let written = model_of(&[&out], Some(&snapshot));
        if std::env::var_os("CRMMAP_SHOW_INIT").is_some() {
            println!("{}", std::fs::read_to_string(&out).unwrap());
        }
        let text = std::fs::read_to_string(&out).unwrap();
        let expected = pairs(&hand, object);
        let got = pairs(&written, object);
        let hand_columns: BTreeSet<&String> = expected.iter().map(|(c, _)| c).collect();
        let matched = got.intersection(&expected).count();
        let wrong = got
            .iter()
            .filter(|p| !expected.contains(p) && hand_columns.contains(&p.0))
            .count();
        let extra = got.iter().filter(|p| !hand_columns.contains(&p.0)).count();
        let hand_directions = directions(&hand, object);
        let same_direction = directions(&written, object)
            .iter()
            .filter(|d| hand_directions.contains(d))
            .count();
        rows.push(Row {
            object,
            hand: expected.len(),
            matched,
            same_direction,
            missed: expected.len() - matched,
            wrong,
            extra,
            left_out: text
                .lines()
                .skip_while(|l| !l.contains("// Not mapped:"))
                .skip(1)
                .take_while(|l| l.trim_start().starts_with("//"))
                .count(),
        });
    }

    // Types left out: taken from the snapshot by `check --schema`, written in by
    // `fmt --schema`, an error (E0309) without a snapshot.
    let untyped = dir.path().join("untyped.crmmap");
    std::fs::write(
        &untyped,
        "object Lead {\n  salesforce Lead\n  board 9378000505\n  key text_mkryhch5\n  field text_mkry13cw : text <-> FirstName\n  field color_mksj2adq : status <-> Status\n}\n",
    )
    .unwrap();
    let (code, _, stderr) = crmmap(&["check".as_ref(), untyped.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("E0309"), "{stderr}");
    let (code, stderr) = check_with_schema(&schema, &[&untyped]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = crmmap(&[
        "fmt".as_ref(),
        "--check".as_ref(),
        "--schema".as_ref(),
        schema.as_os_str(),
        untyped.as_os_str(),
    ]);
    assert_eq!(code, 1);
    assert!(stdout.contains("FirstName : string"), "{stdout}");
    let (code, _, stderr) = crmmap(&[
        "fmt".as_ref(),
        "--schema".as_ref(),
        schema.as_os_str(),
        untyped.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(&untyped)
            .unwrap()
            .contains("<-> Status    : picklist")
    );
    let (code, _, stderr) = crmmap(&["check".as_ref(), untyped.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");

    let mut table = String::from(
        "| board | hand-written fields | matched | same direction | missed | wrong | extra | columns left out |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.object, r.hand, r.matched, r.same_direction, r.missed, r.wrong, r.extra, r.left_out
        ));
    }
    println!("{table}");
    for r in &rows {
        assert!(r.hand > 0, "{table}");
        // The sample boards' titles are the fields' names in words: init must find most of them
        // and never pair a column with another field than the hand-written mapping does.
        assert!(r.matched * 10 >= r.hand * 8, "{table}");
        assert_eq!(r.wrong, 0, "{table}");
    }
}
