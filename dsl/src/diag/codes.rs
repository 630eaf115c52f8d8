//! The registry of diagnostic codes.
//!
//! Append only: never reuse or renumber a code that has shipped. A code that is no longer
//! produced stays here, marked retired in its title, so that old CI logs still mean something.
//! Every code has a section in `docs/errors.md` and a fixture `dsl/tests/fixtures/check/<CODE>_*.crmmap`
//! that produces it; tests enforce both.

use std::fmt;

use super::Severity;

macro_rules! codes {
    ($($variant:ident = $num:literal, $sev:ident, $title:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum Code {
            $(
                #[doc = $title]
                $variant = $num,
            )*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The one-line title used in `docs/errors.md`.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }

            /// The severity a diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
        }
    };
}

codes! {
    // E00xx: reserved for files, includes and configuration (unreadable files are usage errors,
    // reported by the command line with exit code 2, not diagnostics).
    // E01xx: syntax
    E0101 = 101, Error, "syntax error";
    E0102 = 102, Error, "expression nested too deeply";
    E0103 = 103, Error, "number out of range";
    // E02xx: names
    E0201 = 201, Error, "unknown translate table";
    E0202 = 202, Error, "object declared twice";
    E0203 = 203, Error, "translate table declared twice";
    E0204 = 204, Error, "monday column mapped twice";
    E0205 = 205, Error, "Salesforce field mapped twice";
    E0206 = 206, Error, "unknown object";
    E0207 = 207, Error, "object misses a required statement";
    E0208 = 208, Error, "statement given twice";
    E0209 = 209, Error, "unknown transform";
    E0210 = 210, Error, "unknown name in an expression";
    E0211 = 211, Error, "board used by two objects";
    E0212 = 212, Error, "translate table lists a value twice";
    // E03xx: types and transforms
    E0301 = 301, Error, "unknown monday column type";
    E0302 = 302, Error, "unknown Salesforce field type";
    E0303 = 303, Error, "column and field types do not match";
    E0304 = 304, Error, "several labels mapped to a single-value field";
    E0305 = 305, Error, "transform does not apply to this kind of value";
    E0306 = 306, Error, "wrong arguments to a transform";
    E0307 = 307, Error, "unknown conflict side";
    E0308 = 308, Error, "board-relation column mapped as a field";
    E0309 = 309, Error, "field type missing and no schema snapshot to take it from";
    // E04xx: directions and write safety
    E0401 = 401, Error, "mapping writes a read-only Salesforce field";
    E0402 = 402, Error, "translate table is not one-to-one but is used both ways";
    E0403 = 403, Error, "transform works one way only";
    E0404 = 404, Error, "the key column is written by a field";
    // E05xx: links and rules
    E0501 = 501, Error, "rule trigger field is not read from monday";
    E0502 = 502, Error, "rule refers to an unknown alias";
    // E06xx: differences from the live schema (`crmmap check --schema`)
    E0601 = 601, Error, "column or board not in the schema";
    E0602 = 602, Error, "field or sObject not in the schema";
    E0603 = 603, Error, "column type differs from the board";
    E0604 = 604, Error, "field type differs from Salesforce";
    E0605 = 605, Error, "Salesforce value has no label on the column";
    E0606 = 606, Error, "value outside a restricted picklist";
    E0607 = 607, Error, "mapping writes a field Salesforce does not let it write";
    E0608 = 608, Error, "link column connects another board";
    // W0xxx: warnings
    W0001 = 1001, Warning, "translate table is never used";
    // W06xx: warnings from the live schema (`crmmap check --schema`)
    W0604 = 1604, Warning, "field type differs from Salesforce within one kind of value";
    W0606 = 1606, Warning, "free text written to a restricted picklist";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = *self as u16;
        if n >= 1000 {
            write!(f, "W{:04}", n - 1000)
        } else {
            write!(f, "E{n:04}")
        }
    }
}
