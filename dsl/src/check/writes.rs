//! Write safety: which columns and fields an object's mappings write (each at most once), and
//! which Salesforce fields can never be written.

use std::collections::HashMap;

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;

use super::Cx;

/// Where an object's flows are written, to find columns and fields mapped twice.
#[derive(Default)]
pub(super) struct Writes {
    /// Columns written from Salesforce (fields `<-`, links `<-`, the key).
    pub(super) columns: HashMap<String, Span>,
    /// Board-relation columns whose links are sent to Salesforce (links `->`).
    pub(super) link_reads: HashMap<String, Span>,
    /// Salesforce fields written from monday.
    pub(super) fields: HashMap<String, Span>,
}

/// Fields that the Salesforce API never lets a client write, on every object.
const SYSTEM_READ_ONLY: &[&str] = &[
    "Id",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "IsDeleted",
    "LastActivityDate",
    "LastViewedDate",
    "LastReferencedDate",
];

/// Read-only fields of standard objects (compound names, conversion results, computed values).
pub(crate) fn standard_read_only(sobject: &str, field: &str) -> bool {
    let list: &[&str] = match sobject {
        "Lead" => &[
            "Name",
            "IsConverted",
            "ConvertedAccountId",
            "ConvertedContactId",
            "ConvertedOpportunityId",
            "ConvertedDate",
        ],
        "Contact" => &["Name"],
        "Opportunity" => &[
            "ExpectedRevenue",
            "LastStageChangeDate",
            "IsClosed",
            "IsWon",
        ],
        _ => &[],
    };
    SYSTEM_READ_ONLY.contains(&field) || list.contains(&field)
}

impl Cx<'_> {
    /// Records that `name` is written; reports E0204 (columns) or E0205 (fields) when it
    /// already was.
    pub(super) fn claim(
        &mut self,
        written: &mut HashMap<String, Span>,
        name: &ast::Name,
        code: Code,
    ) {
        let Some(first) = written.get(&name.node).copied() else {
            written.insert(name.node.clone(), name.span);
            return;
        };
        let d = if code == Code::E0204 {
            Diagnostic::new(
                code,
                name.span,
                format!("column `{}` is mapped twice", name.node),
            )
            .label("mapped again here")
            .secondary(first, "first mapped here")
            .help("a column can be written by one mapping only; delete one of them")
        } else {
            Diagnostic::new(
                code,
                name.span,
                format!("field `{}` is written by two mappings", name.node),
            )
            .label("written again here")
            .secondary(first, "first written here")
            .help("a Salesforce field can be written from one column only; make one of them `<-`")
        };
        self.error(d);
    }

    pub(super) fn read_only(&mut self, span: Span, field: &str, sobject: &str, arrow: Span) {
        self.error(
            Diagnostic::new(
                Code::E0401,
                span,
                format!("`{field}` is read-only in Salesforce but this mapping writes it"),
            )
            .label(format!("`{sobject}.{field}` cannot be written"))
            .secondary(arrow, "this direction writes to Salesforce")
            .help("use `<-` so that the value only flows from Salesforce to monday"),
        );
    }
}
