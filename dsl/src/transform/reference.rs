//! The transform reference in Markdown, generated from the registry (`docs/language.md`
//! includes it; a test in `tests/` keeps the two in step).

use std::fmt::Write as _;

use super::{ALL, Sample};

fn shown(v: &Sample) -> String {
    match v {
        Sample::Null => "(empty)".to_owned(),
        Sample::Text(s) => format!("{s:?}"),
        Sample::Labels(l) => format!(
            "[{}]",
            l.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Sample::Number(s) | Sample::Date(s) | Sample::DateTime(s) => (*s).to_owned(),
    }
}

/// The transform reference in Markdown: one section per transform with its examples.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for t in ALL {
        let _ = writeln!(out, "### `{}`\n", t.name);
        if !t.param_doc.is_empty() {
            let _ = writeln!(out, "- parameters: {}", t.param_doc);
        }
        let _ = writeln!(out, "- kinds: {}", t.kinds_doc);
        let _ = writeln!(out, "- fallible: {}", if t.fallible { "yes" } else { "no" });
        let _ = writeln!(out, "\n{}.\n", t.summary);
        let _ = writeln!(
            out,
            "| step | monday | Salesforce | both ways |\n|---|---|---|---|"
        );
        for e in t.examples {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                e.written,
                shown(&e.monday),
                shown(&e.salesforce),
                if e.both_ways { "yes" } else { "→ only" }
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_lists_parameters_and_examples() {
        let md = reference_markdown();
        assert!(
            md.contains("### `format_date`\n\n- parameters: pattern of YYYY, MM, DD, hh, mm, ss\n")
        );
        assert!(md.contains("| `join(\";\")` | [\"a\", \"b\"] | \"a;b\" | yes |"));
    }
}
