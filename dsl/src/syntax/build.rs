//! One function per grammar rule, named after it, turning pest pairs into AST nodes.
//!
//! A pair shape the grammar does not allow is an internal error, never a user diagnostic.

use pest::iterators::{Pair, Pairs};

use super::Rule;
use crate::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span, Spanned};

type Result<T> = std::result::Result<T, Diagnostic>;

struct Cx {
    file: FileId,
}

impl Cx {
    /// The pair's span without the whitespace and comments that pest's implicit skipping
    /// leaves at the end of a rule ending in `?` or `*`.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let input = s.get_input();
        let mut end = s.end();
        let comments: Vec<(usize, usize)> = pair
            .clone()
            .into_inner()
            .flatten()
            .filter(|p| p.as_rule() == Rule::COMMENT)
            .map(|p| (p.as_span().start(), p.as_span().end()))
            .collect();
        loop {
            end = s.start() + input[s.start()..end].trim_end().len();
            match comments.iter().find(|(cs, ce)| *cs < end && end <= *ce) {
                Some((cs, _)) => end = *cs,
                None => break,
            }
        }
        Span::new(self.file, s.start(), end)
    }

    fn name(&self, pair: Pair<'_, Rule>) -> Name {
        Spanned::new(pair.as_str().to_string(), self.span(&pair))
    }
}

/// The children of a pair, comments left out.
fn inner(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| p.as_rule() != Rule::COMMENT)
}

fn bug(what: &str) -> ! {
    panic!("internal error: the parse tree does not match the grammar ({what}); please report this")
}

fn next<'a>(it: &mut impl Iterator<Item = Pair<'a, Rule>>, what: &str) -> Pair<'a, Rule> {
    it.next().unwrap_or_else(|| bug(what))
}

pub(super) fn file(id: FileId, mut pairs: Pairs<'_, Rule>) -> Result<File> {
    let cx = Cx { file: id };
    let root = next(&mut pairs, "file");
    let comments = root
        .clone()
        .into_inner()
        .flatten()
        .filter(|p| p.as_rule() == Rule::COMMENT)
        .map(|p| Comment {
            text: p.as_str().trim_end().to_string(),
            span: cx.span(&p),
        })
        .collect();
    let mut items = Vec::new();
    for p in inner(root) {
        match p.as_rule() {
            Rule::object_block => items.push(Item::Object(object_block(&cx, p)?)),
            Rule::translate_block => items.push(Item::Translate(translate_block(&cx, p))),
            Rule::EOI => {}
            _ => bug("file item"),
        }
    }
    Ok(File { items, comments })
}

fn object_block(cx: &Cx, pair: Pair<'_, Rule>) -> Result<ObjectBlock> {
    let span = cx.span(&pair);
    let mut it = inner(pair);
    let name = cx.name(next(&mut it, "object name"));
    let stmts = it.map(|p| stmt(cx, p)).collect::<Result<_>>()?;
    Ok(ObjectBlock { name, stmts, span })
}

fn stmt(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<Stmt>> {
    let span = cx.span(&pair);
    let rule = pair.as_rule();
    let mut it = inner(pair);
    let node = match rule {
        Rule::salesforce_stmt => Stmt::Salesforce(cx.name(next(&mut it, "sobject"))),
        Rule::board_stmt => Stmt::Board(integer(cx, next(&mut it, "board id"))?),
        Rule::key_stmt => Stmt::Key(cx.name(next(&mut it, "key column"))),
        Rule::select_stmt => Stmt::Select(string(cx, next(&mut it, "selection"))),
        Rule::record_type_stmt => Stmt::RecordType(string(cx, next(&mut it, "record type"))),
        Rule::conflict_stmt => Stmt::Conflict(cx.name(next(&mut it, "conflict side"))),
        Rule::conflict_field_stmt => Stmt::ConflictField {
            field: cx.name(next(&mut it, "conflict field")),
            side: cx.name(next(&mut it, "conflict side")),
        },
        Rule::name_stmt => name_stmt(cx, next(&mut it, "name rule"))?,
        Rule::on_create_block => Stmt::OnCreate(assignments(cx, it)?),
        Rule::on_delete_stmt => {
            let action = next(&mut it, "delete action");
            Stmt::OnDelete(match action.as_rule() {
                Rule::delete_log => DeleteAction::Log,
                Rule::delete_record => DeleteAction::Delete,
                Rule::delete_set => DeleteAction::Set(assignments(cx, inner(action))?),
                _ => bug("delete action"),
            })
        }
        Rule::on_sf_delete_stmt => {
            Stmt::OnSalesforceDelete(match next(&mut it, "item delete action").as_rule() {
                Rule::item_log => ItemDeleteAction::Log,
                Rule::item_archive => ItemDeleteAction::Archive,
                Rule::item_delete => ItemDeleteAction::Delete,
                _ => bug("item delete action"),
            })
        }
        Rule::field_decl => Stmt::Field(field_decl(cx, it)?),
        Rule::link_decl => Stmt::Link(LinkDecl {
            column: cx.name(next(&mut it, "link column")),
            arrow: arrow(cx, next(&mut it, "link arrow")),
            target: cx.name(next(&mut it, "link target")),
            via: cx.name(next(&mut it, "link via")),
        }),
        Rule::rule_block => Stmt::Rule(rule_block(cx, it)?),
        _ => bug("object statement"),
    };
    Ok(Spanned::new(node, span))
}

fn name_stmt(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Stmt> {
    let rule = pair.as_rule();
    let mut it = inner(pair);
    Ok(match rule {
        Rule::name_both => Stmt::NameBoth(cx.name(next(&mut it, "name field"))),
        Rule::name_to_monday => Stmt::NameToMonday(expr(cx, next(&mut it, "name expression"))?),
        Rule::name_to_salesforce => Stmt::NameToSalesforce {
            field: cx.name(next(&mut it, "name field")),
            value: it.next().map(|p| expr(cx, p)).transpose()?,
        },
        _ => bug("name rule"),
    })
}

fn field_decl<'a>(cx: &Cx, it: impl Iterator<Item = Pair<'a, Rule>>) -> Result<FieldDecl> {
    let mut it = it.peekable();
    let column = cx.name(next(&mut it, "field column"));
    let column_type = cx.name(next(&mut it, "column type"));
    let arrow = arrow(cx, next(&mut it, "field arrow"));
    let field = cx.name(next(&mut it, "field name"));
    let field_type = it
        .next_if(|p| p.as_rule() == Rule::ident)
        .map(|p| cx.name(p));
    let mut steps = Vec::new();
    let mut create_labels = false;
    for p in it {
        match p.as_rule() {
            Rule::pipe => steps.push(pipe(cx, p)?),
            Rule::create_labels => create_labels = true,
            _ => bug("field option"),
        }
    }
    Ok(FieldDecl {
        column,
        column_type,
        arrow,
        field,
        field_type,
        steps,
        create_labels,
    })
}

fn arrow(cx: &Cx, pair: Pair<'_, Rule>) -> Spanned<Arrow> {
    let a = match pair.as_str() {
        "<->" => Arrow::Both,
        "->" => Arrow::ToSalesforce,
        "<-" => Arrow::ToMonday,
        _ => bug("arrow"),
    };
    Spanned::new(a, cx.span(&pair))
}

fn rule_block<'a>(cx: &Cx, mut it: impl Iterator<Item = Pair<'a, Rule>>) -> Result<RuleBlock> {
    let name = cx.name(next(&mut it, "rule name"));
    let when = next(&mut it, "rule when");
    let mut w = inner(when);
    let when_field = cx.name(next(&mut w, "when field"));
    let becomes = string(cx, next(&mut w, "when value"));
    let mut stmts = Vec::new();
    for p in it {
        let span = cx.span(&p);
        let rule = p.as_rule();
        let mut s = inner(p);
        let node = match rule {
            Rule::rule_create => RuleStmt::Create(CreateBlock {
                object: cx.name(next(&mut s, "create object")),
                alias: cx.name(next(&mut s, "create alias")),
                assignments: assignments(cx, s)?,
            }),
            Rule::rule_set => RuleStmt::Set(assignment(cx, next(&mut s, "set"))?),
            Rule::rule_propagate => {
                let from = cx.name(next(&mut s, "propagate from"));
                let to = next(&mut s, "propagate to");
                let to = Spanned::new(
                    to.as_str().split('.').map(str::to_string).collect(),
                    cx.span(&to),
                );
                let steps = s.map(|p| pipe(cx, p)).collect::<Result<_>>()?;
                RuleStmt::Propagate { from, to, steps }
            }
            _ => bug("rule statement"),
        };
        stmts.push(Spanned::new(node, span));
    }
    Ok(RuleBlock {
        name,
        when_field,
        becomes,
        stmts,
    })
}

fn translate_block(cx: &Cx, pair: Pair<'_, Rule>) -> TranslateBlock {
    let span = cx.span(&pair);
    let mut it = inner(pair);
    let name = cx.name(next(&mut it, "translate name"));
    let pairs = it
        .map(|p| {
            let span = cx.span(&p);
            let mut s = inner(p);
            let sf = string(cx, next(&mut s, "translate left"));
            let monday = string(cx, next(&mut s, "translate right"));
            Spanned::new((sf, monday), span)
        })
        .collect();
    TranslateBlock { name, pairs, span }
}

fn assignments<'a>(
    cx: &Cx,
    it: impl Iterator<Item = Pair<'a, Rule>>,
) -> Result<Vec<Spanned<Assignment>>> {
    it.map(|p| assignment(cx, p)).collect()
}

fn assignment(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<Assignment>> {
    let span = cx.span(&pair);
    let mut it = inner(pair);
    let field = cx.name(next(&mut it, "assignment field"));
    let value = expr(cx, next(&mut it, "assignment value"))?;
    Ok(Spanned::new(Assignment { field, value }, span))
}

fn expr(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<Expr>> {
    let span = cx.span(&pair);
    let mut it = inner(pair);
    let base = sum(cx, next(&mut it, "expression"))?;
    let steps: Vec<_> = it.map(|p| pipe(cx, p)).collect::<Result<_>>()?;
    if steps.is_empty() {
        Ok(base)
    } else {
        Ok(Spanned::new(Expr::Pipe(Box::new(base), steps), span))
    }
}

fn sum(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<Expr>> {
    let span = cx.span(&pair);
    let mut it = inner(pair);
    let first = term(cx, next(&mut it, "sum"))?;
    let mut rest = Vec::new();
    while let Some(op) = it.next() {
        let op = match op.as_str() {
            "+" => AddOp::Add,
            "-" => AddOp::Sub,
            _ => bug("add op"),
        };
        rest.push((op, term(cx, next(&mut it, "sum operand"))?));
    }
    if rest.is_empty() {
        Ok(first)
    } else {
        Ok(Spanned::new(Expr::Sum(Box::new(first), rest), span))
    }
}

fn term(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<Expr>> {
    let span = cx.span(&pair);
    let node = match pair.as_rule() {
        Rule::string => Expr::Str(string(cx, pair).node),
        Rule::number => Expr::Number(pair.as_str().to_string()),
        Rule::duration => {
            let mut it = inner(pair);
            let n = integer(cx, next(&mut it, "duration amount"))?;
            let unit = next(&mut it, "duration unit");
            let factor = if unit.as_str().starts_with("week") {
                7
            } else {
                1
            };
            let days = i64::try_from(n.node)
                .ok()
                .and_then(|d| d.checked_mul(factor))
                .ok_or_else(|| out_of_range(n.span))?;
            Expr::Days(days)
        }
        Rule::today => Expr::Today,
        Rule::path => Expr::Path(pair.as_str().split('.').map(str::to_string).collect()),
        Rule::paren => Expr::Paren(Box::new(expr(cx, next(&mut inner(pair), "paren"))?)),
        _ => bug("term"),
    };
    Ok(Spanned::new(node, span))
}

fn pipe(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<Call>> {
    call(cx, next(&mut inner(pair), "pipe call"))
}

fn call(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<Call>> {
    let span = cx.span(&pair);
    let has_parens = pair.as_str().trim_end().ends_with(')');
    let mut it = inner(pair);
    let name = cx.name(next(&mut it, "call name"));
    let args: Vec<_> = it.map(|p| expr(cx, p)).collect::<Result<_>>()?;
    let args = if has_parens { Some(args) } else { None };
    Ok(Spanned::new(Call { name, args }, span))
}

fn integer(cx: &Cx, pair: Pair<'_, Rule>) -> Result<Spanned<u64>> {
    let span = cx.span(&pair);
    pair.as_str()
        .parse::<u64>()
        .map(|n| Spanned::new(n, span))
        .map_err(|_| out_of_range(span))
}

fn out_of_range(span: Span) -> Diagnostic {
    Diagnostic::new(Code::E0103, span, "number is too large")
        .label("out of range")
        .help("board ids and durations must fit in 64 bits")
}

fn string(cx: &Cx, pair: Pair<'_, Rule>) -> Spanned<String> {
    let span = cx.span(&pair);
    let raw = pair.as_str();
    let body = &raw[1..raw.len() - 1];
    Spanned::new(unescape(body), span)
}

/// Undoes the escapes the grammar allows.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let c = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                out.push(c);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
