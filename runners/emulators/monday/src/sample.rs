//! The sample account: the four boards of the seed mappings, with every column id named
//! there, typed by prefix, and status/dropdown labels from the shared sample labels.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::state::{Account, Board, Column, ColumnKind, Group, Item, ItemState, Label};

/// The seed system's mapping data (boards, column ids, fields).
pub const SEED_MAPPINGS: &str = include_str!("../../../../tests/fixtures/seed-mappings.toml");

/// The labels both emulators agree on.
pub const SAMPLE_LABELS: &str = include_str!("../../sample/labels.toml");

/// Board ids of the sample account.
pub mod boards {
    /// Leads.
    pub const LEAD: u64 = 9_378_000_505;
    /// Accounts.
    pub const ACCOUNT: u64 = 9_378_000_326;
    /// Contacts.
    pub const CONTACT: u64 = 9_429_890_440;
    /// Opportunities.
    pub const OPPORTUNITY: u64 = 9_378_000_036;
}

/// Column type from the id prefix.
pub fn kind_from_column_id(id: &str) -> ColumnKind {
    if id == "name" {
        ColumnKind::Name
    } else if id.starts_with("long_text") {
        ColumnKind::LongText
    } else if id.starts_with("color_") {
        ColumnKind::Status
    } else if id.starts_with("dropdown_") {
        ColumnKind::Dropdown
    } else if id.starts_with("numeric_") {
        ColumnKind::Numbers
    } else if id.starts_with("date_") {
        ColumnKind::Date
    } else if id.starts_with("email_") {
        ColumnKind::Email
    } else if id.starts_with("board_relation_") {
        ColumnKind::BoardRelation
    } else {
        ColumnKind::Text
    }
}

/// "npe01__WorkPhone__c" → "Work Phone"; "Main_Challenges__c" → "Main Challenges".
fn humanize(field: &str) -> String {
    let field = field.strip_suffix("__c").unwrap_or(field);
    let field = field.rsplit("__").next().unwrap_or(field);
    let mut out = String::new();
    let mut prev_lower = false;
    for ch in field.chars() {
        if ch == '_' {
            out.push(' ');
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        out.push(ch);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn plural_board_name(object: &str) -> String {
    match object {
        "Opportunity" => "Opportunities".into(),
        other => format!("{other}s"),
    }
}

struct Labels {
    picklists: BTreeMap<String, Vec<String>>,
    us_states: Vec<String>,
    translations: BTreeMap<String, String>,
}

fn load_labels() -> Labels {
    let doc: toml::Table = SAMPLE_LABELS.parse().expect("sample labels parse");
    let picklists = doc
        .get("picklists")
        .and_then(toml::Value::as_table)
        .map(|t| {
            t.iter()
                .map(|(k, v)| {
                    let values = v
                        .get("values")
                        .and_then(toml::Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    (k.clone(), values)
                })
                .collect()
        })
        .unwrap_or_default();
    let us_states = doc
        .get("us_states")
        .and_then(|t| t.get("labels"))
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let translations = doc
        .get("translations")
        .and_then(toml::Value::as_table)
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Labels {
        picklists,
        us_states,
        translations,
    }
}

/// Labels of a status/dropdown column mapped to `object.field`.
fn labels_for(labels: &Labels, object: &str, field: &str, kind: ColumnKind) -> Vec<Label> {
    let texts: Vec<String> = if matches!(field, "State" | "MailingState") {
        labels.us_states.clone()
    } else if let Some(values) = labels.picklists.get(&format!("{object}.{field}")) {
        values
            .iter()
            .map(|v| {
                labels
                    .translations
                    .get(v)
                    .cloned()
                    .unwrap_or_else(|| v.clone())
            })
            .collect()
    } else {
        vec!["Option A".into(), "Option B".into()]
    };
    let mut column = Column {
        id: String::new(),
        title: String::new(),
        kind,
        labels: Vec::new(),
        connected_board_ids: Vec::new(),
    };
    for text in &texts {
        column.add_label(text);
    }
    column.labels
}

fn str_at<'a>(value: &'a toml::Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(toml::Value::as_str)
}

/// Builds the four sample boards from the seed mappings.
pub fn sample_boards() -> Vec<Board> {
    let seed: toml::Table = SEED_MAPPINGS.parse().expect("seed mappings parse");
    let labels = load_labels();
    let objects = seed
        .get("objects")
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    let board_of_object: BTreeMap<String, u64> = objects
        .iter()
        .filter_map(|(name, o)| Some((name.clone(), str_at(o, "board_id")?.parse().ok()?)))
        .collect();
    let links_to_monday: Vec<toml::Value> = seed
        .get("links_to_monday")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();

    let mut boards = Vec::new();
    for (object, spec) in &objects {
        let board_id = board_of_object[object];
        // column id → (field it maps to, connected boards)
        let mut fields: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut connected: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
        if let Some(id_col) = str_at(spec, "salesforce_id_column") {
            fields.insert(id_col.to_owned(), Some("Salesforce Id".into()));
        }
        for section in ["to_salesforce", "to_monday"] {
            if let Some(table) = spec.get(section).and_then(toml::Value::as_table) {
                for (col, mapping) in table {
                    let field = match mapping {
                        toml::Value::String(s) => Some(s.clone()),
                        toml::Value::Array(a) => {
                            a.first().and_then(|f| f.as_str()).map(str::to_owned)
                        }
                        _ => None,
                    };
                    let entry = fields.entry(col.clone()).or_insert(None);
                    if entry.is_none() {
                        *entry = field;
                    }
                }
            }
        }
        if let Some(table) = spec
            .get("links_to_salesforce")
            .and_then(toml::Value::as_table)
        {
            for (col, link) in table {
                let target = link
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                fields
                    .entry(col.clone())
                    .or_insert_with(|| Some(format!("Linked {target}")));
                if let Some(board) = board_of_object.get(target) {
                    connected.entry(col.clone()).or_default().insert(*board);
                }
            }
        }
        for link in &links_to_monday {
            let source: Option<u64> = str_at(link, "source_board").and_then(|s| s.parse().ok());
            let target: Option<u64> = str_at(link, "target_board").and_then(|s| s.parse().ok());
            if source == Some(board_id) {
                if let (Some(col), Some(target)) = (str_at(link, "connect_col"), target) {
                    let name = str_at(link, "name").unwrap_or_default();
                    let title = name
                        .split('→')
                        .nth(1)
                        .map_or_else(|| "Linked".into(), |t| format!("Linked{t}"));
                    fields.entry(col.to_owned()).or_insert(Some(title));
                    connected.entry(col.to_owned()).or_default().insert(target);
                }
                if let Some(col) = str_at(link, "source_col") {
                    fields.entry(col.to_owned()).or_insert(None);
                }
            }
            if target == Some(board_id)
                && let Some(col) = str_at(link, "target_col")
            {
                fields
                    .entry(col.to_owned())
                    .or_insert(Some("Salesforce Id".into()));
            }
        }

        let mut columns = vec![Column {
            id: "name".into(),
            title: "Name".into(),
            kind: ColumnKind::Name,
            labels: Vec::new(),
            connected_board_ids: Vec::new(),
        }];
        for (col, field) in &fields {
            let kind = kind_from_column_id(col);
            let title = match field {
                Some(f) if f.starts_with("Linked") || f == "Salesforce Id" => f.clone(),
                Some(f) => humanize(f),
                None => col.clone(),
            };
            let labels = match (kind, field) {
                (ColumnKind::Status | ColumnKind::Dropdown, Some(f)) => {
                    labels_for(&labels, object, f, kind)
                }
                _ => Vec::new(),
            };
            columns.push(Column {
                id: col.clone(),
                title,
                kind,
                labels,
                connected_board_ids: connected
                    .get(col)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default(),
            });
        }
        boards.push(Board {
            id: board_id,
            name: plural_board_name(object),
            columns,
            groups: vec![Group {
                id: "topics".into(),
                title: format!("Active {}", plural_board_name(object).to_lowercase()),
                color: "#579bfc".into(),
            }],
        });
    }
    boards
}

/// The id column (Salesforce id) of each sample board.
pub fn salesforce_id_columns() -> BTreeMap<u64, String> {
    let seed: toml::Table = SEED_MAPPINGS.parse().expect("seed mappings parse");
    seed.get("objects")
        .and_then(toml::Value::as_table)
        .map(|objects| {
            objects
                .values()
                .filter_map(|o| {
                    Some((
                        str_at(o, "board_id")?.parse().ok()?,
                        str_at(o, "salesforce_id_column")?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adds `per_board` deterministic items to every board: a name, the Salesforce-id column,
/// and the first label of each status column.
pub fn generate_items(account: &mut Account, per_board: usize, now: &str) {
    let id_columns = salesforce_id_columns();
    let boards: Vec<Board> = account.boards.values().cloned().collect();
    for board in boards {
        for n in 1..=per_board {
            let id = account.next_item_id;
            account.next_item_id += 1;
            let mut values = BTreeMap::new();
            if let Some(col) = id_columns.get(&board.id) {
                values.insert(
                    col.clone(),
                    Value::String(format!("00S{:06}{:09}", board.id % 1_000_000, n)),
                );
            }
            for column in board
                .columns
                .iter()
                .filter(|c| c.kind == ColumnKind::Status)
            {
                if let Some(label) = column.labels.first() {
                    values.insert(
                        column.id.clone(),
                        json!({ "index": label.id, "post_id": null, "changed_at": now }),
                    );
                }
            }
            let singular = board.name.trim_end_matches('s').trim_end_matches("ie");
            account.items.insert(
                id,
                Item {
                    id,
                    board_id: board.id,
                    group_id: board.groups[0].id.clone(),
                    name: format!("{singular} {n}"),
                    state: ItemState::Active,
                    created_at: now.to_owned(),
                    updated_at: now.to_owned(),
                    values,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_column_exists_on_its_board_with_the_prefix_type() {
        let boards = sample_boards();
        assert_eq!(boards.len(), 4);
        let lead = boards.iter().find(|b| b.id == boards::LEAD).unwrap();
        for id in [
            "text_mkryhch5",
            "color_mksj2adq",
            "dropdown_mkstb9d4",
            "long_text_mksfhq35",
            "email_mksx3vtp",
            "short_textzb4g11iz",
            "board_relation_mks95q",
        ] {
            assert!(lead.column(id).is_some(), "missing {id}");
        }
        assert_eq!(
            lead.column("color_mksj2adq").unwrap().kind,
            ColumnKind::Status
        );
        assert_eq!(
            lead.column("short_textzb4g11iz").unwrap().kind,
            ColumnKind::Text
        );
        let opp = boards.iter().find(|b| b.id == boards::OPPORTUNITY).unwrap();
        assert_eq!(
            opp.column("numeric_mksjdntv").unwrap().kind,
            ColumnKind::Numbers
        );
        assert_eq!(opp.column("date_mkt1abcz").unwrap().kind, ColumnKind::Date);
        assert_eq!(
            opp.column("board_relation_mks9nfzc")
                .unwrap()
                .connected_board_ids,
            vec![boards::ACCOUNT]
        );
        assert!(opp.column("board_relation_mks9pr9d").is_some());
    }

    #[test]
    fn labels_follow_the_shared_sample_labels() {
        let boards = sample_boards();
        let lead = boards.iter().find(|b| b.id == boards::LEAD).unwrap();
        let status = lead.column("color_mksj2adq").unwrap();
        assert_eq!(status.title, "Status");
        assert!(status.label_by_text("Qualified").is_some());
        let needs = lead.column("dropdown_mksfyfqp").unwrap();
        assert!(needs.label_by_text("Curriculum Development").is_some());
        assert!(needs.label_by_text("Curriculum").is_none());
        let state = lead.column("dropdown_mkstb9d4").unwrap();
        assert!(state.label_by_text("California").is_some());
        assert_eq!(humanize("npe01__WorkPhone__c"), "Work Phone");
    }
}
