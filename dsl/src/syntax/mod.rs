//! parse: text → pest pairs → [`ast::File`].
//!
//! The grammar is `grammar/crmmap.pest`; this module only walks what it produces.

mod build;

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};

/// The parser generated from the grammar.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/crmmap.pest"]
pub struct CrmmapParser;

/// How deeply parentheses and calls may nest before the input is refused.
pub const MAX_NESTING: usize = 64;

/// Parses one file. A file has at most one syntax error: parsing stops at the first one.
pub fn parse(file: &SourceFile) -> Result<ast::File, Diagnostic> {
    check_nesting(file)?;
    let pairs = CrmmapParser::parse(Rule::file, &file.text).map_err(|e| syntax_error(file, e))?;
    build::file(file.id, pairs)
}

/// Refuses pathological nesting before pest sees it (pest recurses per level).
fn check_nesting(file: &SourceFile) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (i, c) in file.text.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') | (false, '\n') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if file.text[i..].starts_with("//") => in_comment = true,
            '(' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::new(
                        Code::E0102,
                        Span::new(file.id, i, i + 1),
                        format!("nesting deeper than {MAX_NESTING} levels"),
                    )
                    .label("too deep here")
                    .help("split the expression into simpler parts"));
                }
            }
            ')' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn syntax_error(file: &SourceFile, e: pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    // Point at the offending token (or the end of input), never at an empty range.
    let rest = &file.text[start..];
    let token_len = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(rest.len(), |(i, _)| i)
        .max(rest.chars().next().map_or(0, char::len_utf8));
    let end = end.max(start + token_len);
    let found = if rest.is_empty() {
        "end of file".to_string()
    } else {
        let token: String = rest[..end - start].chars().take(24).collect();
        format!("`{token}`")
    };
    let (message, help) = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives
                .iter()
                .filter(|r| !matches!(r, Rule::COMMENT | Rule::WHITESPACE))
                .map(|r| describe(*r))
                .collect();
            names.sort_unstable();
            names.dedup();
            let expected = match names.as_slice() {
                [] => "something else".to_string(),
                [one] => one.to_string(),
                [init @ .., last] => format!("{} or {}", init.join(", "), last),
            };
            (
                format!("expected {expected}, found {found}"),
                hint(&names, rest),
            )
        }
        ErrorVariant::CustomError { message } => (message.clone(), None),
    };
    let mut d = Diagnostic::new(Code::E0101, Span::new(file.id, start, end), message)
        .label("unexpected here");
    if let Some(h) = help {
        d = d.help(h);
    }
    d
}

/// Help for common slips.
fn hint(expected: &[&str], rest: &str) -> Option<String> {
    if rest.starts_with('\'') {
        return Some("strings are written in double quotes: \"like this\"".into());
    }
    if rest.starts_with("=>")
        || rest.starts_with("<=")
        || rest.starts_with("=") && expected.contains(&"an arrow (`<->`, `->` or `<-`)")
    {
        return Some("directions are written `<->` (both ways), `->` (monday to Salesforce) or `<-` (Salesforce to monday)".into());
    }
    if expected.iter().any(|e| e.starts_with("`field`")) {
        return Some("each statement in an object starts with a keyword such as `field`, `link`, `name` or `key`; see docs/language.md".into());
    }
    None
}

/// A human name for each grammar rule, used in "expected …" messages. Exhaustive on purpose:
/// a new rule does not compile until it has a name.
pub fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE => "whitespace",
        Rule::COMMENT => "a comment",
        Rule::file => "a mapping file",
        Rule::object_block => "`object`",
        Rule::object_stmt => "a statement",
        Rule::salesforce_stmt => "`salesforce`",
        Rule::board_stmt => "`board`",
        Rule::key_stmt => "`key`",
        Rule::select_stmt => "`select`",
        Rule::record_type_stmt => "`record type`",
        Rule::conflict_stmt | Rule::conflict_field_stmt => "`conflict`",
        Rule::name_stmt => "`name`",
        Rule::name_both | Rule::name_to_monday | Rule::name_to_salesforce => {
            "an arrow (`<->`, `->` or `<-`)"
        }
        Rule::on_create_block => "`on create`",
        Rule::on_delete_stmt => "`on delete`",
        Rule::delete_log => "`log`",
        Rule::delete_record => "`delete`",
        Rule::delete_set => "`set`",
        Rule::on_sf_delete_stmt => "`on salesforce delete`",
        Rule::item_log => "`log`",
        Rule::item_archive => "`archive`",
        Rule::item_delete => "`delete`",
        Rule::field_decl => "`field`",
        Rule::create_labels => "`create labels`",
        Rule::link_decl => "`link`",
        Rule::arrow => "an arrow (`<->`, `->` or `<-`)",
        Rule::rule_block => "`rule`",
        Rule::rule_when => "`when`",
        Rule::rule_create => "`create`",
        Rule::rule_set => "`set`",
        Rule::rule_propagate => "`propagate`",
        Rule::translate_block => "`translate`",
        Rule::translate_pair => "a pair `\"Salesforce value\" = \"monday label\"`",
        Rule::assignment => "an assignment `Field = value`",
        Rule::expr | Rule::sum | Rule::term => "a value",
        Rule::pipe => "`|`",
        Rule::add_op => "`+` or `-`",
        Rule::paren => "`(`",
        Rule::call => "a transform",
        Rule::duration => "a duration such as `30 days`",
        Rule::day_unit => "`days`",
        Rule::today => "`today`",
        Rule::path => "a field name",
        Rule::ident => "a name",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::integer => "a whole number",
        Rule::number => "a number",
        Rule::string => "a string in double quotes",
        Rule::string_inner => "text",
        Rule::escape => "an escape (`\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` or `\\u{…}`)",
    }
}
