//! A `field` line: its column and field types, what it writes, its steps both ways, and the
//! kind of value from the column through the steps to the field.

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::model::{ColumnType, Direction, Field, Kind, SfType, Step};

use super::expr::Scope;
use super::writes::{Writes, standard_read_only};
use super::{Cx, direction, kinds, suggest};

impl Cx<'_> {
    pub(super) fn field(
        &mut self,
        f: &ast::FieldDecl,
        sobject: &str,
        key: Option<&ast::Name>,
        writes: &mut Writes,
    ) -> Option<Field> {
        let direction = direction(f.arrow.node);
        let column_type = self.column_type(f);
        let field_type = match &f.field_type {
            None => self.taken_type(f, sobject),
            Some(t) => SfType::from_keyword(&t.node).or_else(|| {
                let known: Vec<&str> = SfType::ALL.iter().map(|t| t.keyword()).collect();
                self.unknown_type(Code::E0302, t, "Salesforce field type", "field", &known);
                None
            }),
        };

        if direction.to_salesforce() && standard_read_only(sobject, &f.field.node) {
            self.read_only(f.field.span, &f.field.node, sobject, f.arrow.span);
        }
        if direction.to_monday() {
            if let Some(k) = key.filter(|k| k.node == f.column.node) {
                self.error(
                    Diagnostic::new(
                        Code::E0404,
                        f.column.span,
                        format!(
                            "column `{}` is the key column and cannot be written by a field",
                            f.column.node
                        ),
                    )
                    .label("written here")
                    .secondary(k.span, "declared as the key here")
                    .help("the key column always receives the record Id; delete this field line"),
                );
            } else {
                self.claim(&mut writes.columns, &f.column, Code::E0204);
            }
        }
        if direction.to_salesforce() {
            self.claim(&mut writes.fields, &f.field, Code::E0205);
        }

        let (steps, steps_ok) = self.field_steps(f, direction);
        let (column_type, field_type) = (column_type?, field_type?);
        if steps_ok {
            self.kind_flow(f, column_type, field_type, &steps);
        }
        Some(Field {
            column: f.column.node.clone(),
            column_type,
            direction,
            field: f.field.node.clone(),
            field_type,
            steps,
            conflict: None,
            create_labels: f.create_labels,
            origin: self.origin(f.column.span),
        })
    }

    /// The type of a field written without one: taken from the schema snapshot, or E0309
    /// without one. A field missing from the snapshot is reported by the snapshot checks
    /// (E0602); a type crmmap does not map is E0302.
    fn taken_type(&mut self, f: &ast::FieldDecl, sobject: &str) -> Option<SfType> {
        let Some(snapshot) = self.snapshot else {
            self.error(
                Diagnostic::new(
                    Code::E0309,
                    f.field.span,
                    format!("`{}` has no type, and there is no schema snapshot to take it from", f.field.node),
                )
                .label("type missing")
                .help(format!(
                    "write the type (`{} : string`), or check with `--schema DIR` and write the types in with `crmmap fmt --schema DIR`",
                    f.field.node
                )),
            );
            return None;
        };
        let found = snapshot.field(sobject, &f.field.node)?;
        let taken = SfType::from_keyword(&found.field_type);
        if taken.is_none() {
            let known: Vec<&str> = SfType::ALL.iter().map(|t| t.keyword()).collect();
            self.error(
                Diagnostic::new(
                    Code::E0302,
                    f.field.span,
                    format!(
                        "`{sobject}.{}` is a `{}` field in Salesforce, a type crmmap does not map",
                        f.field.node, found.field_type
                    ),
                )
                .label("type not mapped")
                .help(format!(
                    "map another field; field types are {}",
                    known
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        taken
    }

    /// The column type; a board-relation column belongs in a `link`.
    fn column_type(&mut self, f: &ast::FieldDecl) -> Option<ColumnType> {
        match ColumnType::from_keyword(&f.column_type.node) {
            Some(ColumnType::BoardRelation) => {
                self.error(
                    Diagnostic::new(
                        Code::E0308,
                        f.column_type.span,
                        format!(
                            "board-relation column `{}` cannot be mapped as a field",
                            f.column.node
                        ),
                    )
                    .label("a board-relation column")
                    .help(format!(
                        "write `link {} {} Object via ReferenceField__c` instead",
                        f.column.node,
                        f.arrow.node.as_str()
                    )),
                );
                None
            }
            Some(t) => Some(t),
            None => {
                let known: Vec<&str> = ColumnType::ALL.iter().map(|t| t.keyword()).collect();
                self.unknown_type(
                    Code::E0301,
                    &f.column_type,
                    "monday column type",
                    "column",
                    &known,
                );
                None
            }
        }
    }

    /// Reports a type that does not exist: "unknown monday column type `txt`", with a
    /// did-you-mean or the list of the `known` types.
    fn unknown_type(
        &mut self,
        code: Code,
        written: &ast::Name,
        what: &str,
        short: &str,
        known: &[&str],
    ) {
        self.error(
            Diagnostic::new(
                code,
                written.span,
                format!("unknown {what} `{}`", written.node),
            )
            .label(format!("not a {short} type"))
            .help(
                suggest(&written.node, known.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "{short} types are {}",
                        known
                            .iter()
                            .map(|t| format!("`{t}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }),
            ),
        );
    }

    /// The field's steps, and whether all of them are right. A field mapped both ways takes
    /// only steps that can be undone (E0403) and one-to-one translate tables (E0402).
    fn field_steps(&mut self, f: &ast::FieldDecl, direction: Direction) -> (Vec<Step>, bool) {
        let mut steps = Vec::new();
        let mut steps_ok = true;
        for call in &f.steps {
            let Some(s) = self.step(call, &Scope::item()) else {
                steps_ok = false;
                continue;
            };
            if direction == Direction::Both {
                if let Step::Translate(t) = &s
                    && let Some(table) = self.tables.get(t).filter(|i| !i.one_to_one)
                {
                    let table_span = table.span;
                    self.error(
                            Diagnostic::new(
                                Code::E0402,
                                call.span,
                                format!("translate table `{t}` is not one-to-one but this field is mapped both ways"),
                            )
                            .label("used both ways here")
                            .secondary(table_span, "two values share a monday label in this table")
                            .help("give every Salesforce value its own monday label, or make the field one-way (`<-` or `->`)"),
                        );
                }
                if s.spec().lossy {
                    self.error(
                        Diagnostic::new(
                            Code::E0403,
                            call.span,
                            format!("`{}` cannot be undone, so it cannot be used on a field mapped both ways", s.name()),
                        )
                        .label("one-way transform")
                        .help("make the field one-way (`<-` or `->`), or drop the transform"),
                    );
                }
            }
            steps.push(s);
        }
        (steps, steps_ok)
    }

    /// Follows the kind of value from the column through the steps to the field.
    fn kind_flow(&mut self, f: &ast::FieldDecl, column: ColumnType, field: SfType, steps: &[Step]) {
        let mut kind = column.kind();
        for (step, call) in steps.iter().zip(&f.steps) {
            match step.spec().output(kind) {
                Ok(k) => kind = k,
                Err(accepts) => {
                    self.error(
                        Diagnostic::new(
                            Code::E0305,
                            call.span,
                            format!("`{}` does not apply to {} values", step.name(), kind.name()),
                        )
                        .label(format!("the value here is {}", kind.name()))
                        .help(format!("`{}` takes {accepts}", step.name())),
                    );
                    return;
                }
            }
        }
        let target = field.kind();
        if kinds::compatible(kind, target) {
            return;
        }
        let span = f.field_type.as_ref().map_or(f.field.span, |t| t.span);
        if kind == Kind::Labels {
            self.error(
                Diagnostic::new(
                    Code::E0304,
                    f.column.span,
                    format!(
                        "{} column `{}` holds several labels but `{}` is a single-value {} field",
                        column, f.column.node, f.field.node, field
                    ),
                )
                .label("several labels")
                .secondary(span, "one value")
                .help("add `| join(\";\")` to store the labels as one text, or map the column to a `multipicklist`"),
            );
        } else {
            self.error(
                Diagnostic::new(
                    Code::E0303,
                    f.column.span,
                    format!(
                        "{} column `{}` cannot be mapped to {} field `{}`",
                        column, f.column.node, field, f.field.node
                    ),
                )
                .label(format!("{} value", kind.name()))
                .secondary(span, format!("{} value", target.name()))
                .help(kinds::pairing_help(target)),
            );
        }
    }
}
