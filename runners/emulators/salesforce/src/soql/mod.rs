//! A SOQL subset: tokenizer, recursive-descent parser and evaluator.
//!
//! Grammar (keywords case-insensitive):
//! ```text
//! query     := SELECT field ("," field)* FROM ident [WHERE expr]
//!              [ORDER BY order ("," order)*] [LIMIT int] [OFFSET int]
//! field     := path                       (path = ident ("." ident)*)
//! order     := path [ASC|DESC] [NULLS (FIRST|LAST)]
//! expr      := term ((AND term)* | (OR term)*)   -- mixing AND and OR needs parentheses
//! term      := NOT term | "(" expr ")" | cond
//! cond      := path op literal | path [NOT] IN "(" (literal,… | query) ")"
//!            | path LIKE string | path (INCLUDES|EXCLUDES) "(" string,… ")"
//! op        := = | != | <> | < | <= | > | >=
//! literal   := string | number | date | datetime | true | false | null
//! ```

pub mod eval;
mod lexer;

pub use lexer::{LikeElem, Tok, Token, parse_date_literal};

use lexer::tokenize;

/// A literal value in a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    /// A quoted string: its value, and its LIKE pattern form.
    String {
        value: String,
        pattern: Vec<LikeElem>,
        like_only_escape: bool,
    },
    Date(time::Date),
    DateTime(time::OffsetDateTime),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A field path with the query position it came from (for error messages).
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub parts: Vec<String>,
    pub pos: usize,
}

impl Path {
    pub fn text(&self) -> String {
        self.parts.join(".")
    }
}

/// A WHERE expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        path: Path,
        op: CmpOp,
        value: Literal,
        value_pos: usize,
    },
    In {
        path: Path,
        negated: bool,
        values: Vec<Literal>,
        value_pos: usize,
    },
    InQuery {
        path: Path,
        negated: bool,
        query: Box<Query>,
    },
    Like {
        path: Path,
        pattern: Literal,
        value_pos: usize,
    },
    Includes {
        path: Path,
        excludes: bool,
        values: Vec<String>,
    },
}

/// One ORDER BY item.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderItem {
    pub path: Path,
    pub descending: bool,
    pub nulls_last: bool,
}

/// A parsed SELECT statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub fields: Vec<Path>,
    pub object: String,
    pub object_pos: usize,
    pub filter: Option<Expr>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// A query error, rendered the way Salesforce renders them.
#[derive(Clone, Debug, PartialEq)]
pub struct SoqlError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD` or `INVALID_TYPE`.
    pub code: &'static str,
    /// The reason (last line of the message).
    pub reason: String,
    /// Char offset of the offending token, when known.
    pub pos: Option<usize>,
}

impl SoqlError {
    pub fn malformed(reason: impl Into<String>, pos: Option<usize>) -> Self {
        SoqlError {
            code: "MALFORMED_QUERY",
            reason: reason.into(),
            pos,
        }
    }

    /// The error's `message` as Salesforce formats it: the query line, a caret under the
    /// offending column, `ERROR at Row:R:Column:C`, then the reason.
    pub fn message(&self, query: &str) -> String {
        let Some(pos) = self.pos else {
            return self.reason.clone();
        };
        let mut row = 1;
        let mut line_start = 0;
        for (i, c) in query.chars().enumerate() {
            if i >= pos {
                break;
            }
            if c == '\n' {
                row += 1;
                line_start = i + 1;
            }
        }
        let col = pos - line_start + 1;
        let line: String = query
            .chars()
            .skip(line_start)
            .take_while(|c| *c != '\n')
            .collect();
        format!(
            "\n{line}\n{}^\nERROR at Row:{row}:Column:{col}\n{}",
            " ".repeat(col - 1),
            self.reason
        )
    }
}

/// Parses a SOQL statement.
pub fn parse(query: &str) -> Result<Query, SoqlError> {
    if query.trim().is_empty() {
        return Err(SoqlError::malformed(
            "A query string has to be specified",
            None,
        ));
    }
    let tokens = tokenize(query)?;
    let mut p = Parser { toks: tokens, i: 0 };
    let q = p.query()?;
    match p.peek() {
        Tok::Eof => Ok(q),
        _ => Err(p.unexpected()),
    }
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    fn pos(&self) -> usize {
        self.toks[self.i].pos
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn unexpected(&self) -> SoqlError {
        let t = &self.toks[self.i];
        let text = match &t.tok {
            Tok::Eof => "<EOF>".to_string(),
            _ => t.text.clone(),
        };
        SoqlError::malformed(format!("unexpected token: '{text}'"), Some(t.pos))
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, want: &Tok) -> Result<(), SoqlError> {
        if self.peek() == want {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn ident(&mut self) -> Result<(String, usize), SoqlError> {
        match self.peek() {
            Tok::Ident(s) if !is_reserved(s) => {
                let s = s.clone();
                let pos = self.pos();
                self.bump();
                Ok((s, pos))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn path(&mut self) -> Result<Path, SoqlError> {
        let (first, pos) = self.ident()?;
        let parts = first.split('.').map(str::to_string).collect::<Vec<_>>();
        if parts.iter().any(String::is_empty) {
            return Err(SoqlError::malformed(
                format!("unexpected token: '{first}'"),
                Some(pos),
            ));
        }
        Ok(Path { parts, pos })
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let mut fields = vec![self.path()?];
        while self.peek() == &Tok::Comma {
            self.bump();
            fields.push(self.path()?);
        }
        self.expect_kw("FROM")?;
        let (object, object_pos) = self.ident()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let path = self.path()?;
                let descending = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                let mut nulls_last = descending;
                if self.eat_kw("NULLS") {
                    if self.eat_kw("LAST") {
                        nulls_last = true;
                    } else {
                        self.expect_kw("FIRST")?;
                        nulls_last = false;
                    }
                }
                order_by.push(OrderItem {
                    path,
                    descending,
                    nulls_last,
                });
                if self.peek() == &Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.count()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.count()?)
        } else {
            None
        };
        Ok(Query {
            fields,
            object,
            object_pos,
            filter,
            order_by,
            limit,
            offset,
        })
    }

    fn count(&mut self) -> Result<usize, SoqlError> {
        match self.peek() {
            Tok::Number(n, _) if *n >= 0.0 && n.fract() == 0.0 => {
                let n = *n as usize;
                self.bump();
                Ok(n)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn expr(&mut self) -> Result<Expr, SoqlError> {
        let first = self.term()?;
        if self.is_kw("AND") || self.is_kw("OR") {
            let and = self.is_kw("AND");
            let (same, other) = if and { ("AND", "OR") } else { ("OR", "AND") };
            let mut items = vec![first];
            while self.eat_kw(same) {
                items.push(self.term()?);
            }
            if self.is_kw(other) {
                return Err(self.unexpected());
            }
            return Ok(if and {
                Expr::And(items)
            } else {
                Expr::Or(items)
            });
        }
        Ok(first)
    }

    fn term(&mut self) -> Result<Expr, SoqlError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.term()?)));
        }
        if self.peek() == &Tok::LParen {
            self.bump();
            let e = self.expr()?;
            self.expect(&Tok::RParen)?;
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, SoqlError> {
        let path = self.path()?;
        if let Tok::Op(op) = self.peek() {
            let op = *op;
            self.bump();
            let value_pos = self.pos();
            let value = self.literal()?;
            return Ok(Expr::Cmp {
                path,
                op,
                value,
                value_pos,
            });
        }
        let negated = self.eat_kw("NOT");
        if self.eat_kw("IN") {
            self.expect(&Tok::LParen)?;
            if self.is_kw("SELECT") {
                let q = self.query()?;
                self.expect(&Tok::RParen)?;
                return Ok(Expr::InQuery {
                    path,
                    negated,
                    query: Box::new(q),
                });
            }
            let value_pos = self.pos();
            let mut values = vec![self.literal()?];
            while self.peek() == &Tok::Comma {
                self.bump();
                values.push(self.literal()?);
            }
            self.expect(&Tok::RParen)?;
            return Ok(Expr::In {
                path,
                negated,
                values,
                value_pos,
            });
        }
        if negated {
            return Err(self.unexpected());
        }
        if self.eat_kw("LIKE") {
            let value_pos = self.pos();
            return match self.literal()? {
                pattern @ Literal::String { .. } => Ok(Expr::Like {
                    path,
                    pattern,
                    value_pos,
                }),
                _ => Err(SoqlError::malformed(
                    "LIKE operator requires a string value",
                    Some(value_pos),
                )),
            };
        }
        let includes = self.is_kw("INCLUDES");
        if includes || self.is_kw("EXCLUDES") {
            self.bump();
            self.expect(&Tok::LParen)?;
            let mut values = Vec::new();
            loop {
                match self.literal()? {
                    Literal::String { value, .. } => values.push(value),
                    _ => return Err(self.unexpected()),
                }
                if self.peek() == &Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
            self.expect(&Tok::RParen)?;
            return Ok(Expr::Includes {
                path,
                excludes: !includes,
                values,
            });
        }
        Err(self.unexpected())
    }

    fn literal(&mut self) -> Result<Literal, SoqlError> {
        let lit = match self.peek() {
            Tok::Str {
                value,
                pattern,
                like_only_escape,
            } => Literal::String {
                value: value.clone(),
                pattern: pattern.clone(),
                like_only_escape: *like_only_escape,
            },
            Tok::Number(n, _) => Literal::Number(*n),
            Tok::Date(d) => Literal::Date(*d),
            Tok::DateTime(d) => Literal::DateTime(*d),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => return Err(self.unexpected()),
        };
        self.bump();
        Ok(lit)
    }
}

fn is_reserved(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES",
        "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH", "ORDER",
        "OFFSET", "TRUE", "FALSE",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seed_selection() {
        let q = parse(
            "SELECT Id, Name FROM Account WHERE Id in (SELECT ConvertedAccountId FROM Lead WHERE Role__c ='Partner' AND CreatedDate >= 2024-07-01T00:00:00Z)",
        )
        .unwrap();
        assert_eq!(q.object, "Account");
        assert!(matches!(q.filter, Some(Expr::InQuery { .. })));
    }

    #[test]
    fn mixing_and_or_needs_parentheses() {
        let e = parse("SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(e.reason.contains("'OR'"), "{e:?}");
        parse("SELECT Id FROM Lead WHERE (A = 1 AND B = 2) OR C = 3").unwrap();
    }

    #[test]
    fn error_message_format() {
        let q = "SELECT Id FROM Lead WHERE";
        let e = parse(q).unwrap_err();
        assert_eq!(
            e.message(q),
            "\nSELECT Id FROM Lead WHERE\n                         ^\nERROR at Row:1:Column:26\nunexpected token: '<EOF>'"
        );
    }

    #[test]
    fn order_limit_offset() {
        let q =
            parse("select Id from Lead order by LastName desc nulls first, Id limit 10 offset 5")
                .unwrap();
        assert_eq!(q.order_by.len(), 2);
        assert!(q.order_by[0].descending && !q.order_by[0].nulls_last);
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.offset, Some(5));
    }
}
