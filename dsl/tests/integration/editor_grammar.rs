//! The editor grammar (`editors/vscode/syntaxes/crmmap.tmLanguage.json`, TextMate) against the
//! language grammar (`grammar/crmmap.pest`): the words its `keywords` patterns highlight are
//! exactly the keywords of the language, so adding or removing one fails here until the
//! highlighting follows. The extension's hand-written highlighting cases are real syntax.

use std::collections::BTreeSet;

use crmmap_dsl::{SourceMap, parse};

use crate::root;

/// Rules whose quoted letters are not keywords (`\n`, `\t`, `\r` and `\u{…}` escapes).
const NOT_KEYWORDS: &[&str] = &["escape"];

/// Every quoted literal made of letters in the pest grammar, outside comments and the rules in
/// `NOT_KEYWORDS`.
fn pest_keywords(grammar: &str) -> BTreeSet<String> {
    let mut keywords = BTreeSet::new();
    let mut rule = String::new();
    for line in grammar.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if !line.starts_with(char::is_whitespace)
            && let Some((name, _)) = line.split_once('=')
        {
            rule = name.trim().to_string();
        }
        if NOT_KEYWORDS.contains(&rule.as_str()) {
            continue;
        }
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                continue;
            }
            let mut literal = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => literal.extend(chars.next().map(|e| match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        e => e,
                    })),
                    '"' => break,
                    c => literal.push(c),
                }
            }
            if !literal.is_empty() && literal.chars().all(|c| c.is_ascii_lowercase()) {
                keywords.insert(literal);
            }
        }
    }
    keywords
}

/// The words of the TextMate grammar's `keywords` patterns, each written `\b(?:a|b|…)\b`.
fn textmate_keywords(grammar: &serde_json::Value) -> BTreeSet<String> {
    let patterns = grammar["repository"]["keywords"]["patterns"]
        .as_array()
        .expect("the TextMate grammar has a `keywords` repository entry with patterns");
    let mut words = BTreeSet::new();
    for pattern in patterns {
        let regex = pattern["match"]
            .as_str()
            .expect("a keyword pattern is a `match`");
        let inner = regex
            .strip_prefix(r"\b(?:")
            .and_then(|r| r.strip_suffix(r")\b"))
            .unwrap_or_else(|| panic!("keyword pattern `{regex}` is not `\\b(?:a|b)\\b`"));
        for word in inner.split('|') {
            assert!(
                !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase()),
                "`{word}` in keyword pattern `{regex}` is not a plain word"
            );
            assert!(
                words.insert(word.to_string()),
                "`{word}` is highlighted twice"
            );
        }
    }
    words
}

fn textmate_grammar() -> serde_json::Value {
    let path = root().join("editors/vscode/syntaxes/crmmap.tmLanguage.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_editor_grammar_highlights_exactly_the_keywords_of_the_language() {
    let pest = pest_keywords(&std::fs::read_to_string(root().join("grammar/crmmap.pest")).unwrap());
    // The extraction itself: a few keywords of each kind, and no escape letter.
    for word in ["object", "translate", "becomes", "days", "today", "labels"] {
        assert!(
            pest.contains(word),
            "`{word}` not found in grammar/crmmap.pest"
        );
    }
    assert!(!pest.contains("n") && !pest.contains("u"));

    let grammar = textmate_grammar();
    let textmate = textmate_keywords(&grammar);
    let missing: Vec<_> = pest.difference(&textmate).collect();
    let extra: Vec<_> = textmate.difference(&pest).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "editors/vscode/syntaxes/crmmap.tmLanguage.json is out of step with grammar/crmmap.pest:\n\
         keywords it does not highlight: {missing:?}\nwords it highlights that are not keywords: {extra:?}"
    );
    let top: Vec<_> = grammar["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["include"].as_str())
        .collect();
    assert!(
        top.contains(&"#keywords"),
        "the keywords are not used: {top:?}"
    );
}

#[test]
fn pest_keywords_skip_comments_escapes_and_symbols() {
    let grammar = "/// `select where \"x\"`: one selection\n\
                   select_stmt = { \"select\" ~ \"where\" ~ string }\n\
                   escape = @{ \"\\\\\" ~ (\"\\\"\" | \"n\") }\n\
                   arrow = { \"<->\" | \"->\" }\n\
                   field_decl = {\n    \"field\" ~ ident ~ \":\" ~ (\"a\\\"b\")\n}\n";
    let words: Vec<_> = pest_keywords(grammar).into_iter().collect();
    assert_eq!(words, ["field", "select", "where"]);
}

#[test]
fn the_editor_highlighting_cases_are_mapping_syntax() {
    let dir = root().join("editors/vscode/test/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "crmmap"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "highlighting cases missing in {}",
        dir.display()
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut map = SourceMap::new();
        let id = map.add(name.clone(), std::fs::read_to_string(&path).unwrap());
        let parsed = parse(map.get(id));
        // `broken_*` cases show how text the parser rejects is highlighted.
        if name.starts_with("broken_") {
            assert!(parsed.is_err(), "{name} parses, but is meant to be broken");
        } else if let Err(diagnostic) = parsed {
            panic!("{name} does not parse: {diagnostic:?}");
        }
    }
}
