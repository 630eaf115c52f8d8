//! The transform library as data. Each transform's name, parameters, kinds, fallibility,
//! documentation and examples are its entry in the language's registry
//! ([`crmmap_dsl::transform`]); its implementation, both ways, is its arm of
//! [`crate::transform::apply`]. The tests here run every example through that implementation,
//! so the reference that [`reference_markdown`] renders for `docs/language.md` cannot drift
//! from the behaviour.

pub use crmmap_dsl::transform::{ALL, Example, Sample, Transform, reference_markdown};

use crmmap_dsl::model::{Origin, TranslateTable};

use crate::compile::compile_step;
use crate::error::EvalError;
use crate::plan::StepPlan;
use crate::value::{Number, Value, parse_date, parse_datetime};

/// Every transform, in the order the language reference lists them.
pub fn library() -> &'static [&'static Transform] {
    ALL
}

/// The translate table the examples use ([`crmmap_dsl::transform::EXAMPLE_TABLE`]).
pub fn example_table() -> TranslateTable {
    let (name, pairs) = crmmap_dsl::transform::EXAMPLE_TABLE;
    TranslateTable {
        name: name.to_owned(),
        pairs: pairs
            .iter()
            .map(|(s, m)| ((*s).to_owned(), (*m).to_owned()))
            .collect(),
        origin: Origin {
            file: "docs/language.md".into(),
            line: 1,
            column: 1,
        },
    }
}

/// An example's step as the engine runs it (a `translate` uses [`example_table`]).
pub fn example_step(example: &Example) -> StepPlan {
    compile_step(&(example.step)(), &[example_table()])
}

/// An example's value.
pub fn sample_value(sample: &Sample) -> Result<Value, EvalError> {
    Ok(match sample {
        Sample::Null => Value::Null,
        Sample::Text(s) => Value::text(*s),
        Sample::Labels(l) => Value::labels(l.iter().copied()),
        Sample::Number(n) => Value::Number(Number::parse(n)?),
        Sample::Date(d) => Value::Date(parse_date(d)?),
        Sample::DateTime(t) => Value::DateTime(parse_datetime(t)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{EmptyEnv, Flow, apply};
    use time::macros::date;

    #[test]
    fn examples_run() {
        let env = EmptyEnv {
            today: date!(2024 - 12 - 25),
        };
        for t in library() {
            assert!(!t.examples.is_empty(), "{} has no example", t.name);
            for e in t.examples {
                let step = example_step(e);
                assert_eq!(step.to_string(), e.written);
                let monday = sample_value(&e.monday).unwrap();
                let salesforce = sample_value(&e.salesforce).unwrap();
                let got = apply(&step, monday.clone(), Flow::ToSalesforce, &env).unwrap();
                assert_eq!(got, salesforce, "{} forward on {monday:?}", e.written);
                if e.both_ways {
                    let back = apply(&step, salesforce.clone(), Flow::ToMonday, &env).unwrap();
                    assert_eq!(back, monday, "{} backward on {salesforce:?}", e.written);
                }
            }
        }
    }

    /// Samples are written the way the engine displays their values, so the reference shows
    /// what a user sees.
    #[test]
    fn samples_are_written_as_the_engine_shows_them() {
        for e in library().iter().flat_map(|t| t.examples) {
            for s in [e.monday, e.salesforce] {
                if let Sample::Number(w) | Sample::Date(w) | Sample::DateTime(w) = s {
                    assert_eq!(sample_value(&s).unwrap().display(), w);
                }
            }
        }
    }
}
