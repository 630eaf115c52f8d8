//! Property tests: the parser never panics; formatting generated files is sound.

use crmmap_dsl::{SourceMap, parse};
use proptest::prelude::*;

fn parse_str(text: &str) -> Result<crmmap_dsl::ast::File, crmmap_dsl::Diagnostic> {
    let mut map = SourceMap::new();
    let id = map.add("p.crmmap", text);
    parse(map.get(id))
}

fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,10}"
}

fn string_lit() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ,.;'/-]{0,12}",
        Just("with \\\"quotes\\\" and \\\\ slash".to_string()),
        Just("tab\\tnew\\nline \\u{e9}".to_string()),
        Just("// not a comment".to_string()),
        "\\PC{0,6}".prop_map(|s| s.replace('\\', "\\\\").replace('"', "\\\"")),
    ]
    .prop_map(|s| format!("\"{s}\""))
}

fn call() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("trim".to_string()),
        Just("capitalize".to_string()),
        Just("join(\";\")".to_string()),
        ident().prop_map(|t| format!("translate({t})")),
        string_lit().prop_map(|s| format!("default({s})")),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        string_lit(),
        "-?[0-9]{1,4}(\\.[0-9]{1,2})?",
        Just("today".to_string()),
        ident(),
        (ident(), ident()).prop_map(|(a, b)| format!("{a}.{b}")),
        Just("today + 30 days".to_string()),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("({e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) + ({b})")),
            (inner, call()).prop_map(|(e, c)| format!("({e}) | {c}")),
        ]
    })
}

fn arrow() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("<->"), Just("->"), Just("<-")]
}

fn stmt() -> impl Strategy<Value = String> {
    prop_oneof![
        ident().prop_map(|s| format!("salesforce {s}")),
        (1u64..u64::MAX).prop_map(|b| format!("board {b}")),
        ident().prop_map(|k| format!("key {k}")),
        string_lit().prop_map(|s| format!("select where {s}")),
        string_lit().prop_map(|s| format!("record type {s}")),
        ident().prop_map(|s| format!("conflict prefer {s}")),
        (ident(), ident()).prop_map(|(f, s)| format!("conflict F{f} prefer {s}")),
        ident().prop_map(|f| format!("name <-> {f}")),
        expr().prop_map(|e| format!("name <- {e}")),
        (ident(), proptest::option::of(expr())).prop_map(|(f, e)| match e {
            Some(e) => format!("name -> {f} = {e}"),
            None => format!("name -> {f}"),
        }),
        proptest::collection::vec((ident(), expr()), 0..3).prop_map(|a| {
            let body: Vec<String> = a.into_iter().map(|(f, e)| format!("{f} = {e}")).collect();
            format!("on create in salesforce {{ {} }}", body.join("\n"))
        }),
        Just("on delete log".to_string()),
        Just("on delete delete".to_string()),
        (ident(), ident(), arrow(), ident(), proptest::option::of(ident()), proptest::collection::vec(call(), 0..3), any::<bool>())
            .prop_map(|(c, t, a, f, ft, steps, labels)| {
                let mut s = format!("field {c} : {t} {a} {f}");
                if let Some(ft) = ft {
                    s.push_str(&format!(" : {ft}"));
                }
                for st in steps {
                    s.push_str(&format!(" | {st}"));
                }
                if labels {
                    s.push_str(" create labels");
                }
                s
            }),
        (ident(), arrow(), ident(), ident()).prop_map(|(c, a, t, v)| format!("link {c} {a} {t} via {v}")),
        (ident(), ident(), string_lit(), ident(), ident(), expr()).prop_map(|(r, w, v, o, al, e)| {
            format!("rule {r} {{ when {w} becomes {v} create {o} as {al} {{ Name = {e} }} set X = {al}.Id propagate {w} -> {al}.Stage }}")
        }),
    ]
}

/// Joins tokens with random layout: spaces, newlines, blank lines and comments.
fn layout(parts: Vec<String>, seps: Vec<u8>) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        out.push_str(p);
        out.push_str(match seps.get(i).copied().unwrap_or(0) % 5 {
            0 => "\n",
            1 => "   ",
            2 => "\n\n\n",
            3 => " // trailing note\n",
            _ => "\n// own-line note\n",
        });
    }
    out
}

fn file() -> impl Strategy<Value = String> {
    let object = (
        ident(),
        proptest::collection::vec(stmt(), 0..8),
        proptest::collection::vec(any::<u8>(), 0..10),
    )
        .prop_map(|(name, stmts, seps)| format!("object {name} {{\n{}}}", layout(stmts, seps)));
    let table = (
        ident(),
        proptest::collection::vec((string_lit(), string_lit()), 0..4),
    )
        .prop_map(|(name, pairs)| {
            let body: Vec<String> = pairs
                .into_iter()
                .map(|(a, b)| format!("{a} = {b}"))
                .collect();
            format!("translate {name} {{ {} }}", body.join(" "))
        });
    (
        proptest::collection::vec(prop_oneof![object, table], 0..4),
        proptest::collection::vec(any::<u8>(), 0..5),
    )
        .prop_map(|(items, seps)| layout(items, seps))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse_str(&text);
    }

    #[test]
    fn parser_never_panics_on_damaged_mappings(cut in 0usize..4000, insert in "[{}()\"|:<>=/\\\\a-z ]{0,3}") {
        let lead = std::fs::read_to_string(crate::root().join("mappings/lead.crmmap")).unwrap();
        let mut at = cut.min(lead.len());
        while !lead.is_char_boundary(at) { at -= 1; }
        let damaged = format!("{}{}{}", &lead[..at], insert, &lead[at..]);
        let _ = parse_str(&damaged);
    }

    #[test]
    fn generated_files_parse_and_format_soundly(text in file()) {
        let parsed = parse_str(&text);
        prop_assert!(parsed.is_ok(), "the generator made text that does not parse: {:?}\n{text}", parsed.err());
        crate::fmt::assert_sound("generated.crmmap", &text);
    }
}
