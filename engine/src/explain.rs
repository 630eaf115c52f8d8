//! `explain`: a stable, readable rendering of plans, one line per item with its origin.
//!
//! The format is what `crmmap explain` prints and what plan snapshots hold; change it with care
//! (every shipped mapping's snapshot changes with it). Steps and expressions are shown as
//! written, by their `Display` in `crmmap_dsl::transform`.

use std::fmt::{self, Write as _};

use crmmap_dsl::fmt::string as quote;
use crmmap_dsl::model::{ItemDeletePolicy, Origin};

use crate::plan::{AssignPlan, DeletePlan, Plan, PlanSet};

/// Lines are padded to this width before their `# origin` comment.
const ORIGIN_COLUMN: usize = 72;

/// Writes one line, with its origin as a comment when given.
fn line(out: &mut String, indent: usize, text: &str, origin: Option<&Origin>) {
    let start = out.len();
    out.push_str(&" ".repeat(indent));
    out.push_str(text);
    if let Some(o) = origin {
        let width = out.len() - start;
        let pad = if width < ORIGIN_COLUMN {
            ORIGIN_COLUMN - width
        } else {
            2
        };
        let _ = write!(out, "{}# {o}", " ".repeat(pad));
    }
    out.push('\n');
}

fn assignments(out: &mut String, indent: usize, label: &str, list: &[AssignPlan]) {
    for a in list {
        line(
            out,
            indent,
            &format!("{label:<8}{} = {}", a.field, a.value),
            Some(&a.origin),
        );
    }
}

fn list_or_none<T: AsRef<str>>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Plan {
    /// The plan as `explain` text.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        line(
            &mut out,
            0,
            &format!(
                "plan {}  (salesforce {}, board {}, key {})",
                self.object, self.sobject, self.board, self.key_column
            ),
            Some(&self.origin),
        );
        let mut select = format!("select  {}", self.select.fields.join(", "));
        if let Some(w) = self.select.where_clause() {
            let _ = write!(select, " where {w}");
        }
        line(&mut out, 2, &select, None);
        if let Some(e) = &self.name_to_monday {
            line(&mut out, 2, &format!("name    monday <- {e}"), None);
        }
        for a in &self.name_to_salesforce {
            line(
                &mut out,
                2,
                &format!("name    salesforce {} = {}", a.field, a.value),
                Some(&a.origin),
            );
        }
        for fp in &self.fields {
            let mut text = format!(
                "field   {} {} {} {} {}",
                fp.column,
                fp.column_type,
                fp.direction.arrow(),
                fp.field,
                fp.field_type
            );
            for s in &fp.steps {
                let _ = write!(text, " | {s}");
            }
            if fp.conflict != self.conflict {
                let _ = write!(text, "  conflict prefer {}", fp.conflict.keyword());
            }
            if fp.create_labels {
                text.push_str("  create labels");
            }
            line(&mut out, 2, &text, Some(&fp.origin));
        }
        for l in &self.links {
            line(
                &mut out,
                2,
                &format!(
                    "link    {} {} {} via {}",
                    l.column,
                    l.direction.arrow(),
                    l.target,
                    l.via
                ),
                Some(&l.origin),
            );
        }
        if let Some(rt) = &self.record_type {
            line(
                &mut out,
                2,
                &format!("create  RecordTypeId = {}", quote(rt)),
                None,
            );
        }
        assignments(&mut out, 2, "create", &self.on_create);
        match &self.on_delete {
            DeletePlan::Log => line(&mut out, 2, "delete  log", None),
            DeletePlan::Delete => line(&mut out, 2, "delete  delete record", None),
            DeletePlan::Set(list) => assignments(&mut out, 2, "delete", list),
        }
        // Shown when it is not the default, so that plans without it read as before.
        if self.on_salesforce_delete != ItemDeletePolicy::Log {
            line(
                &mut out,
                2,
                &format!(
                    "salesforce delete  {} item",
                    self.on_salesforce_delete.keyword()
                ),
                None,
            );
        }
        line(
            &mut out,
            2,
            &format!("conflict prefer {}", self.conflict.keyword()),
            None,
        );
        for r in &self.rules {
            line(
                &mut out,
                2,
                &format!(
                    "rule    {} when {} = {}",
                    r.name,
                    r.when_field,
                    quote(&r.becomes)
                ),
                Some(&r.origin),
            );
            for c in &r.creates {
                line(
                    &mut out,
                    4,
                    &format!("create {} as {}", c.object, c.alias),
                    Some(&c.origin),
                );
                for a in &c.assignments {
                    line(
                        &mut out,
                        6,
                        &format!("{} = {}", a.field, a.value),
                        Some(&a.origin),
                    );
                }
            }
            for a in &r.sets {
                line(
                    &mut out,
                    4,
                    &format!("set {} = {}", a.field, a.value),
                    Some(&a.origin),
                );
            }
            for p in &r.propagates {
                let mut text = format!("propagate {} -> {}.{}", p.from, p.alias, p.to);
                for s in &p.steps {
                    let _ = write!(text, " | {s}");
                }
                line(&mut out, 4, &text, None);
            }
        }
        let f = &self.facts;
        line(
            &mut out,
            2,
            &format!(
                "reads   salesforce: {}; monday: {}",
                list_or_none(&f.salesforce_read),
                list_or_none(&f.monday_read)
            ),
            None,
        );
        line(
            &mut out,
            2,
            &format!(
                "writes  salesforce: {}; monday: {}",
                list_or_none(&f.salesforce_written),
                list_or_none(&f.monday_written)
            ),
            None,
        );
        let mut notes = Vec::new();
        if f.reads_name {
            notes.push("reads item name".to_owned());
        }
        if f.writes_name {
            notes.push("writes item name".to_owned());
        }
        if !f.creates.is_empty() {
            notes.push(format!("rules create {}", f.creates.join(", ")));
        }
        notes.push(if f.fallible {
            "fallible".to_owned()
        } else {
            "infallible".to_owned()
        });
        line(&mut out, 2, &format!("facts   {}", notes.join("; ")), None);
        out
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain())
    }
}

impl fmt::Display for PlanSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "order {}",
            if self.order.is_empty() {
                "(empty)".to_owned()
            } else {
                self.order.join(", ")
            }
        )?;
        for p in &self.plans {
            writeln!(f)?;
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
