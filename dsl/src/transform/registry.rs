//! The entries: one `static` per transform, in the order the language reference lists them.
//! Adding a transform: a [`Step`] variant, an entry here (in [`ALL`] and [`Step::spec`]), and
//! its `apply` arm in `crmmap_engine::transform`; the compiler points at every `match` to extend.

use super::{Arg, Example, Param, Sample, Signature, Step, Transform};
use crate::model::Kind::{self, Date, Labels, Number, Text};

/// Every transform, in the order the language reference lists them.
pub static ALL: &[&Transform] = &[
    &TRANSLATE,
    &JOIN,
    &SPLIT,
    &TRIM,
    &UPPER,
    &LOWER,
    &CAPITALIZE,
    &DEFAULT,
    &FORMAT_DATE,
    &ROUND,
    &FIRST_NAMES,
    &LAST_NAME,
];

const TEXT_OR_LABELS: &[Kind] = &[Text, Labels];
const TEXT: &[Kind] = &[Text];

const fn ex(
    written: &'static str,
    step: fn() -> Step,
    monday: Sample,
    salesforce: Sample,
    both_ways: bool,
) -> Example {
    Example {
        written,
        step,
        monday,
        salesforce,
        both_ways,
    }
}

/// What a transform without an argument that never fails has; entries fill in the rest.
const PLAIN: Transform = Transform {
    name: "",
    param: Param::None,
    param_doc: "",
    usage: "",
    signature: Signature::Any,
    accepts: "",
    kinds_doc: "",
    lossy: false,
    fallible: false,
    summary: "",
    examples: &[],
    build: |_| None,
};

const TRANSLATED: fn() -> Step = || Step::Translate("needs".into());

pub(super) static TRANSLATE: Transform = Transform {
    name: "translate",
    param: Param::Table,
    param_doc: "table",
    usage: "translate(table_name)",
    signature: Signature::Keeps(TEXT_OR_LABELS),
    accepts: "text or labels",
    kinds_doc: "text → text, labels → labels",
    lossy: false,
    fallible: false,
    summary: "monday labels become Salesforce values going to Salesforce, and back going to monday; \
              values missing from the table pass through unchanged",
    examples: &[
        ex(
            "translate(needs)",
            TRANSLATED,
            Sample::Labels(&["Curriculum Development", "Seniors"]),
            Sample::Labels(&["Curriculum", "Seniors"]),
            true,
        ),
        ex(
            "translate(needs)",
            TRANSLATED,
            Sample::Text("Other Social Media"),
            Sample::Text("Other Internet source"),
            true,
        ),
        ex(
            "translate(needs)",
            TRANSLATED,
            Sample::Text("Unknown"),
            Sample::Text("Unknown"),
            true,
        ),
    ],
    build: |a| match a {
        Arg::Table(t) => Some(Step::Translate(t)),
        _ => None,
    },
};

pub(super) static JOIN: Transform = Transform {
    name: "join",
    param: Param::Separator,
    param_doc: "separator",
    usage: "join(\";\")",
    signature: Signature::Makes(&[Labels], Text),
    accepts: "labels (a dropdown column or a multipicklist)",
    kinds_doc: "labels → text",
    lossy: false,
    fallible: false,
    summary: "labels joined with the separator; going to monday the text is split on it (pieces \
              trimmed, empty pieces dropped)",
    examples: &[
        ex(
            "join(\";\")",
            || Step::Join(";".into()),
            Sample::Labels(&["a", "b"]),
            Sample::Text("a;b"),
            true,
        ),
        ex(
            "join(\", \")",
            || Step::Join(", ".into()),
            Sample::Labels(&["x"]),
            Sample::Text("x"),
            true,
        ),
        ex(
            "join(\";\")",
            || Step::Join(";".into()),
            Sample::Labels(&[]),
            Sample::Null,
            false,
        ),
    ],
    build: |a| match a {
        Arg::Text(s) => Some(Step::Join(s)),
        _ => None,
    },
};

pub(super) static SPLIT: Transform = Transform {
    name: "split",
    param: Param::Separator,
    param_doc: "separator",
    usage: "split(\";\")",
    signature: Signature::Makes(TEXT, Labels),
    accepts: "text",
    kinds_doc: "text → labels",
    lossy: false,
    fallible: false,
    summary: "the mirror image of `join`",
    examples: &[ex(
        "split(\";\")",
        || Step::Split(";".into()),
        Sample::Text("a;b"),
        Sample::Labels(&["a", "b"]),
        true,
    )],
    build: |a| match a {
        Arg::Text(s) => Some(Step::Split(s)),
        _ => None,
    },
};

pub(super) static TRIM: Transform = Transform {
    name: "trim",
    usage: "trim",
    signature: Signature::Keeps(TEXT_OR_LABELS),
    accepts: "text or labels",
    kinds_doc: "text → text, labels → labels",
    lossy: false,
    summary: "surrounding whitespace removed, the same both ways",
    examples: &[
        ex(
            "trim",
            || Step::Trim,
            Sample::Text("  a b "),
            Sample::Text("a b"),
            false,
        ),
        ex(
            "trim",
            || Step::Trim,
            Sample::Labels(&[" a"]),
            Sample::Labels(&["a"]),
            false,
        ),
    ],
    build: |a| matches!(a, Arg::None).then_some(Step::Trim),
    ..PLAIN
};

pub(super) static UPPER: Transform = Transform {
    name: "upper",
    usage: "upper",
    signature: Signature::Keeps(TEXT_OR_LABELS),
    accepts: "text or labels",
    kinds_doc: "text → text, labels → labels",
    lossy: false,
    summary: "upper case, the same both ways",
    examples: &[ex(
        "upper",
        || Step::Upper,
        Sample::Text("ca"),
        Sample::Text("CA"),
        false,
    )],
    build: |a| matches!(a, Arg::None).then_some(Step::Upper),
    ..PLAIN
};

pub(super) static LOWER: Transform = Transform {
    name: "lower",
    usage: "lower",
    signature: Signature::Keeps(TEXT_OR_LABELS),
    accepts: "text or labels",
    kinds_doc: "text → text, labels → labels",
    lossy: false,
    summary: "lower case, the same both ways",
    examples: &[ex(
        "lower",
        || Step::Lower,
        Sample::Text("CA"),
        Sample::Text("ca"),
        false,
    )],
    build: |a| matches!(a, Arg::None).then_some(Step::Lower),
    ..PLAIN
};

pub(super) static CAPITALIZE: Transform = Transform {
    name: "capitalize",
    usage: "capitalize",
    signature: Signature::Makes(TEXT, Text),
    accepts: "text",
    kinds_doc: "text → text",
    lossy: false,
    summary: "the first letter or digit upper-cased (what comes before it, such as spaces or \
              punctuation, is kept), the rest unchanged; the same both ways",
    examples: &[
        ex(
            "capitalize",
            || Step::Capitalize,
            Sample::Text("élan vital"),
            Sample::Text("Élan vital"),
            false,
        ),
        ex(
            "capitalize",
            || Step::Capitalize,
            Sample::Text("  ada"),
            Sample::Text("  Ada"),
            false,
        ),
        ex(
            "capitalize",
            || Step::Capitalize,
            Sample::Text("(acme) inc"),
            Sample::Text("(Acme) inc"),
            false,
        ),
    ],
    build: |a| matches!(a, Arg::None).then_some(Step::Capitalize),
    ..PLAIN
};

const OPEN: fn() -> Step = || Step::Default(Box::new(crate::model::Expr::Str("Open".into())));

pub(super) static DEFAULT: Transform = Transform {
    name: "default",
    param: Param::Expr,
    param_doc: "expression",
    usage: "default(\"Unknown\")",
    signature: Signature::Any,
    accepts: "any value",
    kinds_doc: "any → the same kind",
    lossy: false,
    fallible: false,
    summary: "the expression's value when the input is empty, the same both ways",
    examples: &[
        ex(
            "default(\"Open\")",
            OPEN,
            Sample::Null,
            Sample::Text("Open"),
            false,
        ),
        ex(
            "default(\"Open\")",
            OPEN,
            Sample::Text("MOU"),
            Sample::Text("MOU"),
            true,
        ),
    ],
    build: |a| match a {
        Arg::Expr(e) => Some(Step::Default(Box::new(e))),
        _ => None,
    },
};

pub(super) static FORMAT_DATE: Transform = Transform {
    name: "format_date",
    param: Param::Pattern,
    param_doc: "pattern of YYYY, MM, DD, hh, mm, ss",
    usage: "format_date(\"YYYY-MM-DD\")",
    // A datetime when the pattern has a time; the engine refines it (`compile`).
    signature: Signature::Makes(TEXT, Date),
    accepts: "text on the monday side and a date or datetime on the Salesforce side",
    kinds_doc: "text → date (datetime when the pattern has a time)",
    lossy: false,
    fallible: true,
    summary: "going to Salesforce the text is parsed with the pattern (an error when it does not \
              fit); going to monday the date is rendered with it",
    examples: &[
        ex(
            "format_date(\"DD/MM/YYYY\")",
            || Step::FormatDate("DD/MM/YYYY".into()),
            Sample::Text("05/06/2024"),
            Sample::Date("2024-06-05"),
            true,
        ),
        ex(
            "format_date(\"YYYY-MM-DD hh:mm\")",
            || Step::FormatDate("YYYY-MM-DD hh:mm".into()),
            Sample::Text("2024-06-05 14:30"),
            Sample::DateTime("2024-06-05T14:30:00.000+0000"),
            true,
        ),
    ],
    build: |a| match a {
        Arg::Text(p) => Some(Step::FormatDate(p)),
        _ => None,
    },
};

pub(super) static ROUND: Transform = Transform {
    name: "round",
    param: Param::Places,
    param_doc: "decimal places",
    usage: "round(2)",
    signature: Signature::Makes(&[Number], Number),
    accepts: "numbers",
    kinds_doc: "number → number",
    lossy: true,
    fallible: false,
    summary: "rounded half away from zero; one way only (`->` or `<-`)",
    examples: &[
        ex(
            "round(2)",
            || Step::Round(2),
            Sample::Number("2.345"),
            Sample::Number("2.35"),
            false,
        ),
        ex(
            "round(0)",
            || Step::Round(0),
            Sample::Number("-7.5"),
            Sample::Number("-8"),
            false,
        ),
        ex(
            "round(1)",
            || Step::Round(1),
            Sample::Number("2.5"),
            Sample::Number("2.5"),
            true,
        ),
    ],
    build: |a| match a {
        Arg::Places(n) => Some(Step::Round(n)),
        _ => None,
    },
};

pub(super) static FIRST_NAMES: Transform = Transform {
    name: "first_names",
    usage: "first_names",
    signature: Signature::Makes(TEXT, Text),
    accepts: "text",
    kinds_doc: "text → text",
    lossy: true,
    summary: "all but the last word of a name (the whole name when it is one word); one way only",
    examples: &[
        ex(
            "first_names",
            || Step::FirstNames,
            Sample::Text("Ada King Lovelace"),
            Sample::Text("Ada King"),
            false,
        ),
        ex(
            "first_names",
            || Step::FirstNames,
            Sample::Text("Cher"),
            Sample::Text("Cher"),
            true,
        ),
    ],
    build: |a| matches!(a, Arg::None).then_some(Step::FirstNames),
    ..PLAIN
};

pub(super) static LAST_NAME: Transform = Transform {
    name: "last_name",
    usage: "last_name",
    signature: Signature::Makes(TEXT, Text),
    accepts: "text",
    kinds_doc: "text → text",
    lossy: true,
    summary: "the last word of a name with two words or more, else empty; one way only",
    examples: &[
        ex(
            "last_name",
            || Step::LastName,
            Sample::Text("Ada King Lovelace"),
            Sample::Text("Lovelace"),
            false,
        ),
        ex(
            "last_name",
            || Step::LastName,
            Sample::Text("Cher"),
            Sample::Null,
            false,
        ),
    ],
    build: |a| matches!(a, Arg::None).then_some(Step::LastName),
    ..PLAIN
};
