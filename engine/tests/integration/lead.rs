//! A hand-made Lead-like model, close to the seed's Lead mapping: status, text, dropdowns with a
//! translate table, long text, email, numbers, a date, links and a conversion rule.

use crmmap_dsl::model::*;

pub fn origin(line: u32) -> Origin {
    Origin {
        file: "mappings/lead.crmmap".into(),
        line,
        column: 3,
    }
}

pub fn field(
    line: u32,
    column: &str,
    column_type: ColumnType,
    direction: Direction,
    name: &str,
    field_type: SfType,
    steps: Vec<Step>,
) -> Field {
    Field {
        column: column.into(),
        column_type,
        direction,
        field: name.into(),
        field_type,
        steps,
        conflict: None,
        create_labels: false,
        origin: origin(line),
    }
}

fn path(p: &str) -> Expr {
    Expr::Path(p.split('.').map(str::to_owned).collect())
}

fn assign(line: u32, field: &str, value: Expr) -> Assignment {
    Assignment {
        field: field.into(),
        value,
        origin: origin(line),
    }
}

fn other_object(name: &str, board: u64, key: &str, line: u32) -> Object {
    Object {
        name: name.into(),
        sobject: name.into(),
        board,
        key_column: key.into(),
        selections: vec![],
        record_type: None,
        name_to_monday: Some(path("Name")),
        name_to_salesforce: vec![Assignment {
            field: "Name".into(),
            value: path("name"),
            origin: Origin {
                file: format!("mappings/{}.crmmap", name.to_lowercase()).into(),
                line,
                column: 3,
            },
        }],
        on_create: vec![],
        on_delete: DeletePolicy::Log,
        on_salesforce_delete: ItemDeletePolicy::Log,
        conflict: ConflictPolicy::PreferSalesforce,
        fields: vec![],
        links: vec![],
        rules: vec![],
        origin: Origin {
            file: format!("mappings/{}.crmmap", name.to_lowercase()).into(),
            line: 1,
            column: 1,
        },
    }
}

/// The Lead model (with Account, Contact and Opportunity objects for links and the rule).
pub fn model() -> Model {
    use ColumnType as C;
    use Direction::*;
    use SfType as S;
    let translate = || Step::Translate("dropdown_labels".into());
    let mut contact = other_object("Contact", 9429890440, "text_mks6ner3", 2);
    contact.links.push(Link {
        column: "board_relation_mks98dnn".into(),
        direction: Both,
        target: "Account".into(),
        via: "AccountId".into(),
        origin: Origin {
            file: "mappings/contact.crmmap".into(),
            line: 9,
            column: 3,
        },
    });
    let mut lead = Object {
        name: "Lead".into(),
        sobject: "Lead".into(),
        board: 9378000505,
        key_column: "text_mkryhch5".into(),
        selections: vec!["Role__c = 'Partner' AND CreatedDate >= 2024-07-01T00:00:00Z".into()],
        record_type: Some("0123p000000EILJAA4".into()),
        name_to_monday: Some(path("Company")),
        name_to_salesforce: vec![assign(11, "Company", path("name"))],
        on_create: vec![
            assign(
                13,
                "LastName",
                Expr::Pipe(
                    Box::new(path("LastName")),
                    vec![Step::Default(Box::new(Expr::Str("Unknown".into())))],
                ),
            ),
            assign(14, "LeadSource", Expr::Str("Web".into())),
        ],
        on_delete: DeletePolicy::Set(vec![assign(15, "Status", Expr::Str("Unqualified".into()))]),
        on_salesforce_delete: ItemDeletePolicy::Log,
        conflict: ConflictPolicy::PreferSalesforce,
        fields: vec![
            field(
                20,
                "text_mkry1xy1",
                C::Text,
                Both,
                "LastName",
                S::String,
                vec![],
            ),
            field(
                21,
                "text_mkry13cw",
                C::Text,
                Both,
                "FirstName",
                S::String,
                vec![],
            ),
            field(22, "text_mks821t", C::Text, Both, "Website", S::Url, vec![]),
            field(
                23,
                "text_mkryzhzt",
                C::Text,
                ToMonday,
                "CreatedDate",
                S::Datetime,
                vec![],
            ),
            field(
                24,
                "dropdown_mkstb9d4",
                C::Dropdown,
                Both,
                "State",
                S::String,
                vec![translate(), Step::Join(";".into())],
            ),
            field(
                25,
                "email_mksx3vtp",
                C::Email,
                Both,
                "Email",
                S::Email,
                vec![],
            ),
            field(
                26,
                "color_mksj2adq",
                C::Status,
                Both,
                "Status",
                S::Picklist,
                vec![],
            ),
            field(
                27,
                "color_mksf6mtf",
                C::Status,
                Both,
                "Sector__c",
                S::Picklist,
                vec![],
            ),
            field(
                28,
                "text_mkryxqtf",
                C::Text,
                ToMonday,
                "IsConverted",
                S::Boolean,
                vec![],
            ),
            field(
                29,
                "dropdown_mksfyfqp",
                C::Dropdown,
                Both,
                "Capacity_Building_Needs__c",
                S::Multipicklist,
                vec![translate()],
            ),
            field(
                30,
                "long_text_mksfhq35",
                C::LongText,
                Both,
                "Main_Challenges__c",
                S::Textarea,
                vec![],
            ),
            field(
                31,
                "text_mksfswxm",
                C::Text,
                ToSalesforce,
                "Other_Industry__c",
                S::String,
                vec![Step::Trim],
            ),
            field(
                32,
                "numeric_mkbudget",
                C::Numbers,
                Both,
                "AnnualRevenue",
                S::Currency,
                vec![Step::Round(2)],
            ),
            field(
                33,
                "date_mkfollow",
                C::Date,
                Both,
                "Follow_Up__c",
                S::Date,
                vec![],
            ),
            field(
                34,
                "checkbox_mkpartner",
                C::Checkbox,
                Both,
                "Is_Partner__c",
                S::Boolean,
                vec![],
            ),
            field(
                35,
                "text_mkemployees",
                C::Text,
                ToSalesforce,
                "NumberOfEmployees",
                S::Int,
                vec![],
            ),
        ],
        links: vec![
            Link {
                column: "board_relation_mks9cjfs".into(),
                direction: ToSalesforce,
                target: "Account".into(),
                via: "Linked_Account__c".into(),
                origin: origin(40),
            },
            Link {
                column: "board_relation_mks9cjfs".into(),
                direction: ToMonday,
                target: "Account".into(),
                via: "ConvertedAccountId".into(),
                origin: origin(41),
            },
        ],
        rules: vec![Rule {
            name: "qualified".into(),
            when_field: "Status".into(),
            becomes: "Qualified".into(),
            creates: vec![
                RuleCreate {
                    object: "Account".into(),
                    alias: "account".into(),
                    assignments: vec![assign(52, "Name", path("Company"))],
                    origin: origin(51),
                },
                RuleCreate {
                    object: "Opportunity".into(),
                    alias: "opportunity".into(),
                    assignments: vec![
                        assign(
                            55,
                            "Name",
                            Expr::Concat(vec![path("Company"), Expr::Str(" - partnership".into())]),
                        ),
                        assign(56, "AccountId", path("account.Id")),
                        assign(57, "StageName", Expr::Str("Need Analysis".into())),
                        assign(58, "CloseDate", Expr::AddDays(Box::new(Expr::Today), 30)),
                    ],
                    origin: origin(54),
                },
            ],
            sets: vec![assign(60, "Linked_Account__c", path("account.Id"))],
            propagates: vec![Propagate {
                from: "Status".into(),
                alias: "opportunity".into(),
                to: "StageName".into(),
                steps: vec![],
            }],
            origin: origin(50),
        }],
        origin: origin(1),
    };
    lead.fields[6].conflict = Some(ConflictPolicy::PreferMonday);
    lead.fields[9].create_labels = true;
    Model {
        // Declared children first, so that dependency order has work to do.
        objects: vec![
            lead,
            contact,
            other_object("Opportunity", 9378000036, "text_mkry20c9", 3),
            other_object("Account", 9378000326, "text_mkrykpx4", 4),
        ],
        translates: vec![TranslateTable {
            name: "dropdown_labels".into(),
            pairs: vec![
                ("Curriculum".into(), "Curriculum Development".into()),
                (
                    "Train the trainer".into(),
                    "Digital Navigator and/or Instructor Training".into(),
                ),
                (
                    "Needs assessment".into(),
                    "Strategic plan for Digital Inclusion in your community".into(),
                ),
            ],
            origin: Origin {
                file: "mappings/translations.crmmap".into(),
                line: 1,
                column: 1,
            },
        }],
    }
}
