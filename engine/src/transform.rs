//! The transform library: every step forward (monday → Salesforce) and backward (Salesforce →
//! monday), expression evaluation, and whole field pipelines.
//!
//! Steps are lenses written from the monday side to the Salesforce side. The table sums them
//! up; each step's definition (name, parameter, kinds, documentation, examples) is its entry in
//! the language's registry (`crmmap_dsl::transform`), and [`apply`] has one arm per step: its
//! implementation, both ways. [`crate::library`] runs every example through it.
//!
//! | step | forward (→ Salesforce) | backward (→ monday) |
//! |---|---|---|
//! | `translate(t)` | monday label → Salesforce value, each label; misses pass through | the reverse |
//! | `join(sep)` | labels → text joined by `sep` | text split on `sep` (pieces trimmed, empty pieces dropped) |
//! | `split(sep)` | text split on `sep` | labels joined by `sep` |
//! | `trim`, `upper`, `lower`, `capitalize` | on text, and on each label | the same |
//! | `default(e)` | `e` when the value is empty | the same |
//! | `format_date(p)` | text parsed with `p` (fallible) | a date or datetime rendered with `p` |
//! | `round(n)` | a number rounded half away from zero | the same |
//! | `first_names`, `last_name` | parts of a name | the same |

use crmmap_dsl::model::{ColumnType, Kind};
use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::error::{Code, EvalError};
use crate::plan::{DatePattern, ExprPlan, FieldPlan, PatternPart, StepPlan};
use crate::value::{Number, Value, in_calendar};

/// What expressions can read: record fields, the item name, aliases, and today's date.
pub trait Env {
    /// The value at `path` (`["FirstName"]`, `["name"]`, `["account", "Id"]`); `Null` when the
    /// path names nothing known.
    fn get(&self, path: &[String]) -> Result<Value, EvalError>;

    /// Today's UTC date, from the evaluation input.
    fn today(&self) -> Date;
}

/// An environment with nothing in it but the date.
#[derive(Clone, Copy, Debug)]
pub struct EmptyEnv {
    /// Today's date.
    pub today: Date,
}

impl Env for EmptyEnv {
    fn get(&self, _path: &[String]) -> Result<Value, EvalError> {
        Ok(Value::Null)
    }

    fn today(&self) -> Date {
        self.today
    }
}

/// Which way a value flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// monday → Salesforce: steps run forward.
    ToSalesforce,
    /// Salesforce → monday: steps run backward.
    ToMonday,
}

fn map_text(v: Value, f: impl Fn(&str) -> String) -> Value {
    match v {
        Value::Text(s) => Value::Text(f(&s)),
        Value::Labels(l) => Value::Labels(l.iter().map(|s| f(s)).collect()),
        other => other,
    }
}

/// Upper-cases the first letter or digit; what comes before it (spaces, punctuation, a
/// leading list separator) and the rest are unchanged. Skipping punctuation keeps the step
/// the same on a text and on the labels it splits into (`";a"` and `["a"]` both give `A`).
fn capitalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut done = false;
    for c in s.chars() {
        if !done && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
            done = true;
        } else {
            out.push(c);
        }
    }
    out
}

fn split_labels(s: &str, sep: &str) -> Value {
    if sep.is_empty() {
        return Value::Labels(vec![s.to_owned()]);
    }
    Value::Labels(
        s.split(sep)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

fn join_labels(l: &[String], sep: &str) -> Value {
    let parts: Vec<&str> = l
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        Value::Null
    } else {
        Value::Text(parts.join(sep))
    }
}

fn translate(v: Value, map: &std::collections::HashMap<String, String>) -> Value {
    let t = |s: &str| map.get(s).cloned().unwrap_or_else(|| s.to_owned());
    match v {
        Value::Text(_) | Value::Labels(_) => map_text(v, t),
        Value::Null => Value::Null,
        other => match map.get(&other.display()) {
            Some(hit) => Value::text(hit),
            None => other,
        },
    }
}

fn words(v: &Value) -> Result<Vec<String>, EvalError> {
    Ok(match v.convert(Kind::Text)? {
        Value::Text(s) => s.split_whitespace().map(str::to_owned).collect(),
        _ => vec![],
    })
}

fn text_or_null(s: String) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Text(s)
    }
}

/// Renders a date or datetime with a pattern.
///
/// ```
/// use crmmap_engine::plan::DatePattern;
/// use crmmap_engine::transform::render_date;
/// use crmmap_engine::value::Value;
/// let d = Value::Date(time::macros::date!(2024-06-05));
/// assert_eq!(render_date(&d, &DatePattern::new("DD/MM/YYYY")).unwrap(), "05/06/2024");
/// ```
pub fn render_date(v: &Value, pattern: &DatePattern) -> Result<String, EvalError> {
    let t = match v {
        Value::Date(d) => d.midnight().assume_utc(),
        Value::DateTime(t) => *t,
        other => match other.convert(Kind::DateTime)? {
            Value::DateTime(t) => t,
            _ => return Ok(String::new()),
        },
    };
    let mut out = String::new();
    for part in &pattern.parts {
        match part {
            PatternPart::Year => out.push_str(&format!("{:04}", t.year())),
            PatternPart::Month => out.push_str(&format!("{:02}", u8::from(t.month()))),
            PatternPart::Day => out.push_str(&format!("{:02}", t.day())),
            PatternPart::Hour => out.push_str(&format!("{:02}", t.hour())),
            PatternPart::Minute => out.push_str(&format!("{:02}", t.minute())),
            PatternPart::Second => out.push_str(&format!("{:02}", t.second())),
            PatternPart::Literal(l) => out.push_str(l),
        }
    }
    Ok(out)
}

/// Parses text written with a pattern: a date, or a datetime (UTC) when the pattern has a time.
/// Number fields take their full width (`YYYY` four digits) or, for the others, one or two.
///
/// ```
/// use crmmap_engine::plan::DatePattern;
/// use crmmap_engine::transform::parse_with_pattern;
/// use crmmap_engine::value::Value;
/// let v = parse_with_pattern("5/6/2024", &DatePattern::new("DD/MM/YYYY")).unwrap();
/// assert_eq!(v, Value::Date(time::macros::date!(2024-06-05)));
/// ```
pub fn parse_with_pattern(text: &str, pattern: &DatePattern) -> Result<Value, EvalError> {
    let bad = || {
        EvalError::new(
            Code::NotADate,
            format!(
                "cannot read `{text}` as a date written `{}`",
                pattern.source
            ),
        )
    };
    let s = text.trim();
    if s.is_empty() {
        return Ok(Value::Null);
    }
    let mut rest = s;
    let (mut year, mut month, mut day, mut hour, mut minute, mut second) =
        (None, None, None, 0u8, 0u8, 0u8);
    for part in &pattern.parts {
        if let PatternPart::Literal(l) = part {
            rest = rest.strip_prefix(l.as_str()).ok_or_else(bad)?;
            continue;
        }
        let max = if *part == PatternPart::Year { 4 } else { 2 };
        let n = rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if n == 0 || (*part == PatternPart::Year && n != 4) {
            return Err(bad());
        }
        let (number, after) = rest.split_at_checked(n).ok_or_else(bad)?;
        let value: u32 = number.parse().map_err(|_| bad())?;
        rest = after;
        let small = || u8::try_from(value).map_err(|_| bad());
        match part {
            PatternPart::Year => year = Some(i32::try_from(value).map_err(|_| bad())?),
            PatternPart::Month => month = Some(small()?),
            PatternPart::Day => day = Some(small()?),
            PatternPart::Hour => hour = small()?,
            PatternPart::Minute => minute = small()?,
            PatternPart::Second => second = small()?,
            PatternPart::Literal(_) => {}
        }
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(bad());
    };
    let month = Month::try_from(month).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
    if pattern.has_time() {
        let time = Time::from_hms(hour, minute, second).map_err(|_| bad())?;
        Ok(Value::DateTime(date.with_time(time).assume_utc()))
    } else {
        Ok(Value::Date(date))
    }
}

/// Runs a step in one direction.
///
/// ```
/// use crmmap_engine::plan::StepPlan;
/// use crmmap_engine::transform::{EmptyEnv, Flow, apply};
/// use crmmap_engine::value::Value;
/// let env = EmptyEnv { today: time::macros::date!(2024-01-01) };
/// let step = StepPlan::Join(";".into());
/// let text = apply(&step, Value::labels(["a", "b"]), Flow::ToSalesforce, &env).unwrap();
/// assert_eq!(text, Value::text("a;b"));
/// assert_eq!(apply(&step, text, Flow::ToMonday, &env).unwrap(), Value::labels(["a", "b"]));
/// ```
pub fn apply(step: &StepPlan, v: Value, flow: Flow, env: &dyn Env) -> Result<Value, EvalError> {
    let forward = flow == Flow::ToSalesforce;
    Ok(match step {
        StepPlan::Translate(t) => translate(
            v,
            if forward {
                &t.to_salesforce
            } else {
                &t.to_monday
            },
        ),
        StepPlan::Join(sep) | StepPlan::Split(sep) => {
            // `join` makes text going forward; `split` makes text going backward.
            let make_text = forward == matches!(step, StepPlan::Join(_));
            match (make_text, v) {
                (true, Value::Labels(l)) => join_labels(&l, sep),
                (false, Value::Text(s)) => split_labels(&s, sep),
                (_, Value::Null) => Value::Null,
                // A scalar from the other side (a number field after `join`) splits as its text.
                (
                    false,
                    v @ (Value::Number(_) | Value::Bool(_) | Value::Date(_) | Value::DateTime(_)),
                ) => split_labels(&v.display(), sep),
                (_, other) => other,
            }
        }
        StepPlan::Trim => map_text(v, |s| s.trim().to_owned()),
        StepPlan::Upper => map_text(v, str::to_uppercase),
        StepPlan::Lower => map_text(v, str::to_lowercase),
        StepPlan::Capitalize => map_text(v, capitalize),
        StepPlan::Default(e) => {
            if v.is_empty() {
                evaluate(e, env, flow)?
            } else {
                v
            }
        }
        StepPlan::FormatDate(p) => {
            if forward {
                match v {
                    Value::Text(s) => parse_with_pattern(&s, p)?,
                    other => other,
                }
            } else {
                match v {
                    Value::Null => Value::Null,
                    other => text_or_null(render_date(&other, p)?),
                }
            }
        }
        StepPlan::Round(places) => match v.convert(Kind::Number)? {
            Value::Number(n) => Value::Number(n.round(*places)),
            other => other,
        },
        StepPlan::FirstNames => match words(&v)?.split_last() {
            None => Value::Null,
            Some((only, [])) => Value::Text(only.clone()),
            Some((_, first)) => Value::Text(first.join(" ")),
        },
        StepPlan::LastName => match words(&v)?.as_slice() {
            [_, .., last] => Value::Text(last.clone()),
            _ => Value::Null,
        },
    })
}

/// Runs a step inside an expression, by the kind of its input: `join` joins labels, `split`
/// splits text, `format_date` renders a date or parses text; `translate` maps in the direction
/// the expression's value flows.
fn apply_in_expr(step: &StepPlan, v: Value, flow: Flow, env: &dyn Env) -> Result<Value, EvalError> {
    match (step, v) {
        (StepPlan::Join(sep), Value::Labels(l)) => Ok(join_labels(&l, sep)),
        (StepPlan::Split(sep), Value::Text(s)) => Ok(split_labels(&s, sep)),
        (StepPlan::Join(_) | StepPlan::Split(_), other) => Ok(other),
        (StepPlan::FormatDate(p), Value::Text(s)) => parse_with_pattern(&s, p),
        (StepPlan::FormatDate(p), v @ (Value::Date(_) | Value::DateTime(_))) => {
            Ok(text_or_null(render_date(&v, p)?))
        }
        (StepPlan::FormatDate(_), other) => Ok(other),
        (step, v) => apply(step, v, flow, env),
    }
}

/// Evaluates an expression.
///
/// - paths read the environment;
/// - `a + b` concatenates text (empty parts count as `""`);
/// - `d + N days` moves a date (text is parsed as a date first);
/// - `e | steps` runs each step by the kind of its input, translating in the direction `flow`.
///
/// ```
/// use crmmap_engine::plan::ExprPlan;
/// use crmmap_engine::transform::{EmptyEnv, Flow, evaluate};
/// use crmmap_engine::value::Value;
/// let env = EmptyEnv { today: time::macros::date!(2024-12-25) };
/// let e = ExprPlan::AddDays(Box::new(ExprPlan::Today), 30);
/// assert_eq!(evaluate(&e, &env, Flow::ToSalesforce).unwrap(), Value::Date(time::macros::date!(2025-01-24)));
/// ```
pub fn evaluate(expr: &ExprPlan, env: &dyn Env, flow: Flow) -> Result<Value, EvalError> {
    Ok(match expr {
        ExprPlan::Str(s) => Value::text(s),
        ExprPlan::Number(n) => Value::Number(*n),
        ExprPlan::Today => Value::Date(env.today()),
        ExprPlan::Path(p) => env.get(p)?,
        ExprPlan::Concat(parts) => {
            let mut out = String::new();
            for p in parts {
                out.push_str(&evaluate(p, env, flow)?.display());
            }
            text_or_null(out)
        }
        ExprPlan::AddDays(e, days) => {
            let out_of_range = || {
                EvalError::new(
                    Code::DateOutOfRange,
                    format!("moving the date by {days} days leaves the calendar"),
                )
            };
            let by = days
                .checked_mul(86_400)
                .map(Duration::seconds)
                .ok_or_else(out_of_range)?;
            match evaluate(e, env, flow)? {
                Value::Null => Value::Null,
                Value::DateTime(t) => Value::DateTime(
                    t.checked_add(by)
                        .filter(|t| in_calendar(t.date()))
                        .ok_or_else(out_of_range)?,
                ),
                other => match other.convert(Kind::Date)? {
                    Value::Date(d) => Value::Date(
                        d.checked_add(by)
                            .filter(|d| in_calendar(*d))
                            .ok_or_else(out_of_range)?,
                    ),
                    _ => Value::Null,
                },
            }
        }
        ExprPlan::Pipe(e, steps) => {
            let mut v = evaluate(e, env, flow)?;
            for s in steps {
                v = apply_in_expr(s, v, flow, env)?;
            }
            v
        }
    })
}

/// Converts a pipeline's result to the kind a monday column holds. A date column also holds a
/// date with a time, so datetimes stay datetimes there (to the second, as monday stores them).
pub fn to_column_kind(v: Value, column_type: ColumnType) -> Result<Value, EvalError> {
    if column_type == ColumnType::Date {
        let whole_seconds = |t: OffsetDateTime| t.replace_nanosecond(0).unwrap_or(t);
        match &v {
            Value::DateTime(t) => return Ok(Value::DateTime(whole_seconds(*t))),
            Value::Text(s) => {
                return match crate::value::parse_date(s) {
                    Ok(d) => Ok(Value::Date(d)),
                    Err(e) => crate::value::parse_datetime(s)
                        .map(|t| Value::DateTime(whole_seconds(t)))
                        .map_err(|_| e),
                };
            }
            _ => {}
        }
    }
    v.convert(column_type.kind())
}

/// Brings a value into the kind a step boundary has; dates and datetimes pass as they are
/// (a monday date column holds both), and so does null.
fn coerce(v: Value, kind: Option<Kind>) -> Result<Value, EvalError> {
    match (v.kind(), kind) {
        (None, _) | (_, None) => Ok(v),
        (Some(a), Some(b)) if a == b => Ok(v),
        (Some(Kind::Date | Kind::DateTime), Some(Kind::Date | Kind::DateTime)) => Ok(v),
        (_, Some(k)) => v.convert(k),
    }
}

impl FieldPlan {
    /// A monday value (column kind) through the steps forward, as the Salesforce field's kind.
    pub fn value_to_salesforce(&self, v: Value, env: &dyn Env) -> Result<Value, EvalError> {
        let run = || -> Result<Value, EvalError> {
            // A checkbox is never empty: unchecked (stored as null) is false.
            let mut v = match v {
                Value::Null if self.column_type == ColumnType::Checkbox => Value::Bool(false),
                v => v,
            };
            for (i, s) in self.steps.iter().enumerate() {
                v = coerce(v, self.kinds.get(i).copied())?;
                v = apply(s, v, Flow::ToSalesforce, env)?;
            }
            v.convert(self.field_type.kind())
        };
        run().map_err(|e| self.locate(e))
    }

    /// A Salesforce value (field kind) through the steps backward, as the column's kind.
    pub fn value_to_monday(&self, v: Value, env: &dyn Env) -> Result<Value, EvalError> {
        let run = || -> Result<Value, EvalError> {
            let mut v = v;
            for (i, s) in self.steps.iter().enumerate().rev() {
                v = coerce(v, self.kinds.get(i + 1).copied())?;
                v = apply(s, v, Flow::ToMonday, env)?;
            }
            to_column_kind(v, self.column_type)
        };
        run().map_err(|e| self.locate(e))
    }

    /// Names this field's column, Salesforce field and origin in an error.
    pub fn locate(&self, e: EvalError) -> EvalError {
        e.with_column(self.column.as_str())
            .with_field(&self.field)
            .with_origin(&self.origin)
    }
}

/// `today` for an instant: its UTC date.
pub fn today_of(now: OffsetDateTime) -> Date {
    crate::value::in_utc(now).date()
}

/// Exact-decimal helper for examples and callers building number values.
pub fn number(text: &str) -> Result<Value, EvalError> {
    Ok(Value::Number(Number::parse(text)?))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use time::macros::{date, datetime};

    fn env() -> EmptyEnv {
        EmptyEnv {
            today: date!(2024 - 12 - 25),
        }
    }

    #[test]
    fn format_date_rejects_text_that_does_not_fit() {
        let p = DatePattern::new("DD/MM/YYYY");
        for bad in [
            "2024-06-05",
            "31/02/2024",
            "05/06/24",
            "05/06/2024x",
            "aa/bb/cccc",
        ] {
            let e = parse_with_pattern(bad, &p).unwrap_err();
            assert_eq!(e.code, Code::NotADate, "{bad}");
        }
        let e = apply(
            &StepPlan::FormatDate(p),
            Value::text("nope"),
            Flow::ToSalesforce,
            &env(),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "cannot read `nope` as a date written `DD/MM/YYYY`"
        );
    }

    #[test]
    fn round_rejects_text_that_is_not_a_number() {
        let e = apply(
            &StepPlan::Round(1),
            Value::text("n/a"),
            Flow::ToSalesforce,
            &env(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::NotANumber);
    }

    struct MapEnv(HashMap<String, Value>);

    impl Env for MapEnv {
        fn get(&self, path: &[String]) -> Result<Value, EvalError> {
            Ok(self.0.get(&path.join(".")).cloned().unwrap_or(Value::Null))
        }

        fn today(&self) -> Date {
            date!(2024 - 02 - 28)
        }
    }

    #[test]
    fn expressions() {
        let env = MapEnv(HashMap::from([
            ("FirstName".to_owned(), Value::text("Ada")),
            ("LastName".to_owned(), Value::text("Lovelace")),
            ("Needs".to_owned(), Value::labels(["Curriculum", "Other"])),
            ("Close".to_owned(), Value::text("2024-12-31")),
        ]));
        let path = |p: &str| ExprPlan::Path(p.split('.').map(str::to_owned).collect());
        let full = ExprPlan::Concat(vec![
            path("FirstName"),
            ExprPlan::Str(" ".into()),
            path("LastName"),
        ]);
        assert_eq!(
            evaluate(&full, &env, Flow::ToMonday).unwrap(),
            Value::text("Ada Lovelace")
        );
        let missing = ExprPlan::Concat(vec![path("Nope"), path("LastName")]);
        assert_eq!(
            evaluate(&missing, &env, Flow::ToMonday).unwrap(),
            Value::text("Lovelace")
        );
        let due = ExprPlan::AddDays(Box::new(ExprPlan::Today), 2);
        assert_eq!(
            evaluate(&due, &env, Flow::ToSalesforce).unwrap(),
            Value::Date(date!(2024 - 03 - 01))
        );
        let back = ExprPlan::AddDays(Box::new(path("Close")), -31);
        assert_eq!(
            evaluate(&back, &env, Flow::ToSalesforce).unwrap(),
            Value::Date(date!(2024 - 11 - 30))
        );
        // Translate follows the flow: to monday maps Salesforce values to labels.
        let needs = ExprPlan::Pipe(
            Box::new(path("Needs")),
            vec![
                crate::compile::compile_step(
                    &crmmap_dsl::model::Step::Translate("needs".into()),
                    &[crate::library::example_table()],
                ),
                StepPlan::Join(", ".into()),
            ],
        );
        assert_eq!(
            evaluate(&needs, &env, Flow::ToMonday).unwrap(),
            Value::text("Curriculum Development, Other")
        );
        // format_date renders a date and parses text inside expressions.
        let shown = ExprPlan::Pipe(
            Box::new(ExprPlan::Today),
            vec![StepPlan::FormatDate(DatePattern::new("DD.MM.YYYY"))],
        );
        assert_eq!(
            evaluate(&shown, &env, Flow::ToSalesforce).unwrap(),
            Value::text("28.02.2024")
        );
        let parsed = ExprPlan::Pipe(
            Box::new(ExprPlan::Str("01.03.2024".into())),
            vec![StepPlan::FormatDate(DatePattern::new("DD.MM.YYYY"))],
        );
        assert_eq!(
            evaluate(&parsed, &env, Flow::ToSalesforce).unwrap(),
            Value::Date(date!(2024 - 03 - 01))
        );
        let bad = ExprPlan::AddDays(Box::new(path("FirstName")), 1);
        assert_eq!(
            evaluate(&bad, &env, Flow::ToSalesforce).unwrap_err().code,
            Code::NotADate
        );
    }

    #[test]
    fn steps_take_any_text() {
        let run =
            |step: StepPlan, v: &str| apply(&step, Value::text(v), Flow::ToSalesforce, &env());
        assert_eq!(
            run(StepPlan::Capitalize, "¿éclair").unwrap(),
            Value::text("¿Éclair")
        );
        assert_eq!(run(StepPlan::Capitalize, "ß").unwrap(), Value::text("SS"));
        assert_eq!(
            run(StepPlan::FirstNames, "Ána Óscar Ñuñez").unwrap(),
            Value::text("Ána Óscar")
        );
        assert_eq!(run(StepPlan::FirstNames, "Ñ").unwrap(), Value::text("Ñ"));
        assert_eq!(run(StepPlan::LastName, "Ñ").unwrap(), Value::Null);
        assert_eq!(run(StepPlan::LastName, " a  ü ").unwrap(), Value::text("ü"));
        let p = DatePattern::new("DD/MM/YYYY");
        for bad in ["0é/06/2024", "05/06/2é24", "05/06/２０２４"] {
            assert_eq!(
                parse_with_pattern(bad, &p).unwrap_err().code,
                Code::NotADate,
                "{bad}"
            );
        }
    }

    #[test]
    fn moving_a_date_out_of_the_calendar_is_an_error() {
        let env = env();
        for days in [i64::MAX, i64::MIN, 3_000_000, -1_000_000] {
            let e = ExprPlan::AddDays(Box::new(ExprPlan::Today), days);
            assert_eq!(
                evaluate(&e, &env, Flow::ToSalesforce).unwrap_err().code,
                Code::DateOutOfRange,
                "{days}"
            );
        }
        let late = ExprPlan::AddDays(Box::new(ExprPlan::Str("9999-12-31".into())), 1);
        assert_eq!(
            evaluate(&late, &env, Flow::ToSalesforce).unwrap_err().code,
            Code::DateOutOfRange
        );
    }

    #[test]
    fn today_is_the_utc_date() {
        assert_eq!(
            today_of(datetime!(2024-06-15 23:30 -05:00)),
            date!(2024 - 06 - 16)
        );
    }
}
