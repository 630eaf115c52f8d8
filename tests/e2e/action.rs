//! The GitHub Action (`action.yml`) cannot run here, so its shape is checked: it parses, it is a
//! composite action whose steps name a shell, every `inputs.x` it reads is declared and every
//! declared input is read, it runs the commands it promises, and the example workflow in
//! `docs/github-action.md` parses and passes only inputs that exist.

use std::collections::BTreeSet;

use yaml_rust2::{Yaml, YamlLoader};

use crmmap_tests::root;

fn action_text() -> String {
    std::fs::read_to_string(root().join("action.yml")).unwrap()
}

fn parse(text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).unwrap();
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn declared_inputs(action: &Yaml) -> BTreeSet<String> {
    action["inputs"]
        .as_hash()
        .expect("an inputs map")
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

/// Every `inputs.<name>` in `${{ … }}` expressions and `if:` conditions.
fn used_inputs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("inputs.") {
        rest = &rest[i + "inputs.".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        out.insert(name);
    }
    out
}

#[test]
fn the_action_is_a_composite_whose_steps_read_only_declared_inputs() {
    let text = action_text();
    let action = parse(&text);
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    assert!(action["name"].as_str().is_some() && action["description"].as_str().is_some());
    let declared = declared_inputs(&action);
    let used = used_inputs(&text);
    assert_eq!(
        used, declared,
        "inputs read by the steps and inputs declared differ"
    );
    for (name, input) in action["inputs"].as_hash().unwrap() {
        assert!(
            input["description"].as_str().is_some(),
            "input {name:?} has a description"
        );
        assert_eq!(
            input["required"].as_bool(),
            Some(false),
            "input {name:?} is optional"
        );
    }
    let steps = action["runs"]["steps"].as_vec().expect("steps");
    let mut ids = BTreeSet::new();
    for step in steps {
        if let Some(id) = step["id"].as_str() {
            ids.insert(id.to_owned());
        }
        match (step["run"].as_str(), step["uses"].as_str()) {
            (Some(_), None) => assert!(
                step["shell"].as_str().is_some(),
                "a composite `run` step names its shell: {step:?}"
            ),
            (None, Some(uses)) => assert!(uses.contains('@'), "pinned: {uses}"),
            _ => panic!("a step either runs or uses: {step:?}"),
        }
    }
    // Step outputs read are of steps that exist.
    let mut rest = text.as_str();
    while let Some(i) = rest.find("steps.") {
        rest = &rest[i + "steps.".len()..];
        let id: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(ids.contains(&id), "step `{id}` exists");
    }
}

#[test]
fn the_action_runs_check_fmt_test_and_the_dry_run_into_the_summary() {
    let action = parse(&action_text());
    let runs: Vec<&str> = action["runs"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    let all = runs.join("\n");
    for wanted in [
        "cargo install --locked --path \"$GITHUB_ACTION_PATH/runners/cli\"",
        "crmmap check --format github",
        "crmmap fmt --check",
        "crmmap test --format github",
        "crmmap migrate --dry-run",
        "$GITHUB_STEP_SUMMARY",
    ] {
        assert!(all.contains(wanted), "the action runs `{wanted}`");
    }
    // The dry run only runs with credentials, whose names are the ones crmmap reads.
    let dry = action["runs"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("--dry-run")))
        .unwrap();
    assert!(
        dry["if"]
            .as_str()
            .is_some_and(|c| c.contains("inputs.monday-token != ''"))
    );
    let config = std::fs::read_to_string(root().join("runners/sync/src/config.rs")).unwrap();
    for name in [
        "MONDAY_TOKEN",
        "SF_CLIENT_ID",
        "SF_CLIENT_SECRET",
        "SF_USERNAME",
        "SF_PASSWORD",
        "SF_PRIVATE_KEY",
        "SF_REFRESH_TOKEN",
        "DATABASE_URL",
    ] {
        assert!(
            config.contains(&format!("\"{name}\"")),
            "crmmap reads `{name}`"
        );
        assert!(
            dry["env"][format!("IN_{name}").as_str()].as_str().is_some(),
            "the dry run passes `{name}`"
        );
    }
}

#[test]
fn the_documented_example_workflow_parses_and_passes_declared_inputs() {
    let doc = std::fs::read_to_string(root().join("docs/github-action.md")).unwrap();
    let start = doc.find("```yaml\n").expect("a yaml example") + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let workflow = parse(&doc[start..end]);
    let declared = declared_inputs(&parse(&action_text()));
    let steps = workflow["jobs"]["crmmap"]["steps"].as_vec().unwrap();
    let ours = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("crmmap/crmmap@"))
        })
        .expect("the example uses the action");
    for key in ours["with"].as_hash().unwrap().keys() {
        let key = key.as_str().unwrap();
        assert!(declared.contains(key), "`{key}` is an input of the action");
    }
    // Every input is documented in the table.
    for input in &declared {
        assert!(
            doc.contains(&format!("`{input}`")),
            "`{input}` is documented"
        );
    }
}
