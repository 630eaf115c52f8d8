//! The fields a change event of an entity carries, with their types (for Avro schemas), and
//! the compound fields nested as Salesforce nests them (realtime-and-limits.md §1b: "Compound
//! fields are nested objects"; component names can differ from the sObject field names,
//! `BillingAddress.Street` ↔ `Account.BillingStreet`).

use crate::schema::{FieldType, ObjectDef};

/// A compound field of an object and its components: (component name, sObject field name).
struct Compound {
    object: &'static str,
    name: &'static str,
    components: &'static [(&'static str, &'static str)],
}

/// Address components the emulator's objects have (its schema has no latitude, longitude or
/// geocode accuracy fields, so the compounds carry none).
const LEAD_ADDRESS: &[(&str, &str)] = &[
    ("Street", "Street"),
    ("City", "City"),
    ("State", "State"),
    ("PostalCode", "PostalCode"),
    ("Country", "Country"),
    ("StateCode", "StateCode"),
];
const BILLING_ADDRESS: &[(&str, &str)] = &[
    ("Street", "BillingStreet"),
    ("City", "BillingCity"),
    ("State", "BillingState"),
    ("PostalCode", "BillingPostalCode"),
    ("Country", "BillingCountry"),
    ("StateCode", "BillingStateCode"),
];
const MAILING_ADDRESS: &[(&str, &str)] = &[
    ("Street", "MailingStreet"),
    ("City", "MailingCity"),
    ("State", "MailingState"),
    ("PostalCode", "MailingPostalCode"),
    ("Country", "MailingCountry"),
    ("StateCode", "MailingStateCode"),
];
const PERSON_NAME: &[(&str, &str)] = &[("FirstName", "FirstName"), ("LastName", "LastName")];

/// §1b: `Name.LastName` (Lead, Contact), `Address.PostalCode` (Lead), `BillingAddress.Street`
/// (Account), `MailingAddress.Street` (Contact; seen in a real capture, [amp]).
const COMPOUNDS: &[Compound] = &[
    Compound {
        object: "Lead",
        name: "Name",
        components: PERSON_NAME,
    },
    Compound {
        object: "Lead",
        name: "Address",
        components: LEAD_ADDRESS,
    },
    Compound {
        object: "Account",
        name: "BillingAddress",
        components: BILLING_ADDRESS,
    },
    Compound {
        object: "Contact",
        name: "Name",
        components: PERSON_NAME,
    },
    Compound {
        object: "Contact",
        name: "MailingAddress",
        components: MAILING_ADDRESS,
    },
];

/// Fields a record has that no change event carries: the id (it is in `recordIds`),
/// `IsDeleted` and `SystemModstamp` (absent from the documented CREATE example, §2b).
const NOT_IN_EVENTS: &[&str] = &["Id", "IsDeleted", "SystemModstamp"];

/// One field of a change event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventField {
    /// A plain field: its name and type.
    Scalar { name: String, ftype: FieldType },
    /// A compound field: its name and components, each (component name, sObject field
    /// name, type).
    Compound {
        name: String,
        components: Vec<(String, String, FieldType)>,
    },
}

impl EventField {
    /// The field's name in the event body.
    pub fn name(&self) -> &str {
        match self {
            EventField::Scalar { name, .. } | EventField::Compound { name, .. } => name,
        }
    }
}

/// The body fields of an entity's change events, in describe order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntitySchema {
    /// The entity's API name, e.g. `Lead`.
    pub entity: String,
    pub fields: Vec<EventField>,
}

impl EntitySchema {
    /// The schema of `object`'s change events: every field but the id, `IsDeleted`,
    /// `SystemModstamp` and formula fields ("Formula fields are never sent", §1b), with
    /// compound components folded into their compound at the place of the first component.
    /// A read-only compound `Name` (Lead, Contact: "FirstName LastName") is replaced by the
    /// compound of its parts.
    pub fn of(object: &ObjectDef) -> Self {
        let compounds: Vec<&Compound> = COMPOUNDS
            .iter()
            .filter(|c| c.object == object.name)
            .collect();
        let mut fields = Vec::new();
        for f in &object.fields {
            if f.calculated || NOT_IN_EVENTS.contains(&f.name.as_str()) {
                continue;
            }
            let in_compound = compounds.iter().find(|c| {
                c.components.iter().any(|(_, field)| *field == f.name)
                    || (c.name == f.name && !f.createable)
            });
            match in_compound {
                Some(c) => {
                    if fields.iter().any(|e: &EventField| e.name() == c.name) {
                        continue;
                    }
                    let components = c
                        .components
                        .iter()
                        .filter_map(|(component, field)| {
                            object
                                .field(field)
                                .map(|d| (component.to_string(), field.to_string(), d.ftype))
                        })
                        .collect();
                    fields.push(EventField::Compound {
                        name: c.name.to_string(),
                        components,
                    });
                }
                None => fields.push(EventField::Scalar {
                    name: f.name.clone(),
                    ftype: f.ftype,
                }),
            }
        }
        EntitySchema {
            entity: object.name.clone(),
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn schema(object: &str) -> EntitySchema {
        EntitySchema::of(Schema::sample().object(object).unwrap())
    }

    fn names(s: &EntitySchema) -> Vec<&str> {
        s.fields.iter().map(EventField::name).collect()
    }

    #[test]
    fn person_names_and_addresses_are_compounds() {
        let lead = schema("Lead");
        let n = names(&lead);
        assert!(n.contains(&"Name") && n.contains(&"Address"));
        for gone in ["FirstName", "LastName", "Street", "City", "Id", "IsDeleted"] {
            assert!(!n.contains(&gone), "{gone} is folded or left out");
        }
        assert_eq!(n.iter().filter(|x| **x == "Name").count(), 1);
        let name = lead.fields.iter().find(|f| f.name() == "Name").unwrap();
        assert_eq!(
            name,
            &EventField::Compound {
                name: "Name".into(),
                components: vec![
                    ("FirstName".into(), "FirstName".into(), FieldType::String),
                    ("LastName".into(), "LastName".into(), FieldType::String),
                ],
            }
        );
        let account = schema("Account");
        let n = names(&account);
        assert!(n.contains(&"Name") && n.contains(&"BillingAddress"));
        assert!(!n.contains(&"BillingStreet"));
        assert!(!n.contains(&"npo02__AverageAmount__c"), "formula fields");
        assert!(names(&schema("Contact")).contains(&"MailingAddress"));
    }
}
