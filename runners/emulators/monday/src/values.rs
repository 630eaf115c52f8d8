//! Column values: parsing the write shapes of reference §4.2, the stored `value` JSON,
//! rendered `text`, typed fields and webhook value shapes.

use serde_json::{Map, Value, json};

use crate::state::{Column, ColumnKind};

/// A rejected value, as a monday application error.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    /// `extensions.code`.
    pub code: &'static str,
    /// Message.
    pub message: String,
    /// `extensions.error_data`.
    pub error_data: Value,
}

/// A `ColumnValueException` for `column`.
pub fn column_value_error(column: &Column, message: impl Into<String>) -> ValueError {
    ValueError {
        code: "ColumnValueException",
        message: message.into(),
        error_data: json!({
            "column_type": column.kind.legacy_name(),
            "column_id": column.id,
            "column_name": column.title,
        }),
    }
}

fn id_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn with_changed_at(mut object: Map<String, Value>, changed_at: &str) -> Value {
    object.insert("changed_at".into(), Value::String(changed_at.to_owned()));
    Value::Object(object)
}

/// Turns a `change_simple_column_value` string into the JSON write shape of the column.
pub fn simple_to_json(column: &Column, simple: &str) -> Result<Value, ValueError> {
    let simple = simple.trim();
    Ok(match column.kind {
        ColumnKind::Name | ColumnKind::Text | ColumnKind::Numbers => {
            Value::String(simple.to_owned())
        }
        ColumnKind::LongText => json!({ "text": simple }),
        ColumnKind::Status => json!({ "label": simple }),
        ColumnKind::Dropdown => {
            let parts: Vec<&str> = simple
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if !parts.is_empty() && parts.iter().all(|p| p.parse::<i64>().is_ok()) {
                json!({ "ids": parts.iter().filter_map(|p| p.parse::<i64>().ok()).collect::<Vec<_>>() })
            } else {
                json!({ "labels": parts })
            }
        }
        ColumnKind::Date => {
            let mut parts = simple.splitn(2, ' ');
            let date = parts.next().unwrap_or_default();
            match parts.next() {
                Some(time) => json!({ "date": date, "time": time }),
                None => json!({ "date": date }),
            }
        }
        ColumnKind::Email | ColumnKind::Link => {
            let mut parts = simple.splitn(2, ' ');
            let first = parts.next().unwrap_or_default();
            let text = parts.next().unwrap_or(first);
            if column.kind == ColumnKind::Email {
                json!({ "email": first, "text": text })
            } else {
                json!({ "url": first, "text": text })
            }
        }
        ColumnKind::Phone => {
            let mut parts = simple.rsplitn(2, ' ');
            let country = parts.next().unwrap_or_default();
            let phone = parts.next().unwrap_or_default();
            json!({ "phone": phone, "countryShortName": country })
        }
        ColumnKind::People => {
            let persons: Vec<Value> = simple
                .split(',')
                .filter_map(|p| p.trim().parse::<u64>().ok())
                .map(|id| json!({ "id": id, "kind": "person" }))
                .collect();
            json!({ "personsAndTeams": persons })
        }
        ColumnKind::Checkbox | ColumnKind::BoardRelation => {
            return Err(ValueError {
                code: "CorrectedValueException",
                message: format!(
                    "column type {} does not support simple string values",
                    column.kind.api_name()
                ),
                error_data: json!({ "column_type": column.kind.legacy_name(), "column_id": column.id }),
            });
        }
    })
}

/// Parses a write to `column` and returns the value to store (`None` clears the column).
/// `create_labels` adds unknown status/dropdown labels to the column. `item_board` tells
/// the board of an existing, non-deleted item (for board relations).
pub fn write_value(
    column: &mut Column,
    raw: &Value,
    create_labels: bool,
    changed_at: &str,
    item_board: &dyn Fn(u64) -> Option<u64>,
) -> Result<Option<Value>, ValueError> {
    if raw.is_null() {
        return Ok(None);
    }
    if let Value::Object(map) = raw
        && map.is_empty()
        && !matches!(column.kind, ColumnKind::Text | ColumnKind::Numbers)
    {
        return Ok(None);
    }
    // Simple strings are accepted for JSON columns, as monday does.
    if let (Value::String(s), false) = (
        raw,
        matches!(
            column.kind,
            ColumnKind::Name | ColumnKind::Text | ColumnKind::Numbers
        ),
    ) {
        if s.is_empty() {
            return Ok(None);
        }
        let converted = simple_to_json(column, s)?;
        return write_value(column, &converted, create_labels, changed_at, item_board);
    }
    let bad =
        |column: &Column, what: &str| column_value_error(column, format!("invalid value - {what}"));
    match column.kind {
        ColumnKind::Name | ColumnKind::Text => match raw {
            Value::String(s) => Ok(Some(Value::String(s.clone()))),
            Value::Number(n) => Ok(Some(Value::String(n.to_string()))),
            _ => Err(bad(column, "text columns take a string")),
        },
        ColumnKind::Numbers => {
            let text = match raw {
                Value::String(s) => s.trim().to_owned(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(bad(
                        column,
                        "numbers columns take a number or a numeric string",
                    ));
                }
            };
            if !text.is_empty() && text.parse::<f64>().is_err() {
                return Err(bad(column, &format!("`{text}` is not a number")));
            }
            Ok(Some(Value::String(text)))
        }
        ColumnKind::LongText => {
            let text = raw
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(column, "long text takes {\"text\": ...}"))?;
            if text.chars().count() > 2000 {
                return Err(bad(column, "long text is limited to 2000 characters"));
            }
            let mut map = Map::new();
            map.insert("text".into(), json!(text));
            Ok(Some(with_changed_at(map, changed_at)))
        }
        ColumnKind::Status => {
            let index = if let Some(label) = raw.get("label").and_then(Value::as_str) {
                match column.label_by_text(label) {
                    Some(l) => l.id,
                    None if create_labels => column.add_label(label),
                    None => {
                        return Err(column_value_error(
                            column,
                            format!(
                                "invalid value - label `{label}` does not exist in column `{}`",
                                column.title
                            ),
                        ));
                    }
                }
            } else if let Some(index) = raw.get("index").and_then(id_of) {
                if column.label_by_id(index).is_none() {
                    return Err(column_value_error(
                        column,
                        format!(
                            "invalid value - index {index} does not exist in column `{}`",
                            column.title
                        ),
                    ));
                }
                index
            } else {
                return Err(bad(
                    column,
                    "status takes {\"label\": ...} or {\"index\": ...}",
                ));
            };
            let mut map = Map::new();
            map.insert("index".into(), json!(index));
            map.insert("post_id".into(), Value::Null);
            Ok(Some(with_changed_at(map, changed_at)))
        }
        ColumnKind::Dropdown => {
            let labels = raw.get("labels");
            let ids = raw.get("ids");
            let mut chosen = Vec::new();
            match (labels, ids) {
                (Some(_), Some(_)) => {
                    return Err(bad(column, "dropdown takes labels or ids, not both"));
                }
                (Some(Value::Array(labels)), None) => {
                    for label in labels {
                        let text = label
                            .as_str()
                            .ok_or_else(|| bad(column, "dropdown labels are strings"))?;
                        let id = match column.label_by_text(text) {
                            Some(l) => l.id,
                            None if create_labels => column.add_label(text),
                            None => {
                                return Err(column_value_error(
                                    column,
                                    format!(
                                        "invalid value - label `{text}` does not exist in column `{}`",
                                        column.title
                                    ),
                                ));
                            }
                        };
                        chosen.push(id);
                    }
                }
                (None, Some(Value::Array(ids))) => {
                    for id in ids {
                        let id =
                            id_of(id).ok_or_else(|| bad(column, "dropdown ids are numbers"))?;
                        if column.label_by_id(id).is_none() {
                            return Err(column_value_error(
                                column,
                                format!(
                                    "invalid value - dropdown id {id} does not exist in column `{}`",
                                    column.title
                                ),
                            ));
                        }
                        chosen.push(id);
                    }
                }
                _ => {
                    return Err(bad(
                        column,
                        "dropdown takes {\"labels\": [...]} or {\"ids\": [...]}",
                    ));
                }
            }
            if chosen.is_empty() {
                return Ok(None);
            }
            let mut map = Map::new();
            map.insert("ids".into(), json!(chosen));
            Ok(Some(with_changed_at(map, changed_at)))
        }
        ColumnKind::Date => {
            let date = raw
                .get("date")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(column, "date takes {\"date\": \"YYYY-MM-DD\"}"))?;
            let format = time::macros::format_description!("[year]-[month]-[day]");
            if time::Date::parse(date, &format).is_err() {
                return Err(bad(column, &format!("`{date}` is not a YYYY-MM-DD date")));
            }
            let mut map = Map::new();
            map.insert("date".into(), json!(date));
            if let Some(t) = raw
                .get("time")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                let hms = time::macros::format_description!("[hour]:[minute]:[second]");
                let hm = time::macros::format_description!("[hour]:[minute]");
                let parsed = time::Time::parse(t, &hms).or_else(|_| time::Time::parse(t, &hm));
                let Ok(parsed) = parsed else {
                    return Err(bad(column, &format!("`{t}` is not a HH:MM:SS time")));
                };
                map.insert(
                    "time".into(),
                    json!(format!(
                        "{:02}:{:02}:{:02}",
                        parsed.hour(),
                        parsed.minute(),
                        parsed.second()
                    )),
                );
            }
            map.insert("icon".into(), Value::Null);
            Ok(Some(with_changed_at(map, changed_at)))
        }
        ColumnKind::Email => {
            let email = raw
                .get("email")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(column, "email takes {\"email\": ..., \"text\": ...}"))?;
            if !email.is_empty() && !email.contains('@') {
                return Err(bad(column, &format!("`{email}` is not an email address")));
            }
            let text = raw.get("text").and_then(Value::as_str).unwrap_or(email);
            let mut map = Map::new();
            map.insert("email".into(), json!(email));
            map.insert("text".into(), json!(text));
            Ok(Some(with_changed_at(map, changed_at)))
        }
        ColumnKind::Phone => {
            let phone = raw.get("phone").and_then(Value::as_str).ok_or_else(|| {
                bad(
                    column,
                    "phone takes {\"phone\": ..., \"countryShortName\": ...}",
                )
            })?;
            let country = raw
                .get("countryShortName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !phone.chars().all(|c| c.is_ascii_digit() || c == '+') {
                return Err(bad(column, &format!("`{phone}` is not a phone number")));
            }
            if !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase())) {
                return Err(bad(
                    column,
                    &format!("`{country}` is not a two-letter country code"),
                ));
            }
            let mut map = Map::new();
            map.insert("phone".into(), json!(phone));
            map.insert("changed_at".into(), json!(changed_at));
            map.insert("countryShortName".into(), json!(country));
            Ok(Some(Value::Object(map)))
        }
        ColumnKind::Link => {
            let url = raw
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(column, "link takes {\"url\": ..., \"text\": ...}"))?;
            let text = raw.get("text").and_then(Value::as_str).unwrap_or(url);
            let mut map = Map::new();
            map.insert("url".into(), json!(url));
            map.insert("text".into(), json!(text));
            Ok(Some(with_changed_at(map, changed_at)))
        }
        ColumnKind::Checkbox => {
            let checked = match raw.get("checked") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) if s == "true" => true,
                Some(Value::String(s)) if s == "false" => false,
                _ => return Err(bad(column, "checkbox takes {\"checked\": \"true\"}")),
            };
            if !checked {
                return Ok(None);
            }
            let mut map = Map::new();
            map.insert("checked".into(), json!("true"));
            Ok(Some(with_changed_at(map, changed_at)))
        }
        ColumnKind::People => {
            let list = raw
                .get("personsAndTeams")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(column, "people takes {\"personsAndTeams\": [...]}"))?;
            let mut persons = Vec::new();
            for entry in list {
                let id = entry
                    .get("id")
                    .and_then(id_of)
                    .ok_or_else(|| bad(column, "people entries need an id"))?;
                let kind = entry
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("person");
                if !matches!(kind, "person" | "team") {
                    return Err(bad(column, &format!("`{kind}` is not person or team")));
                }
                persons.push(json!({ "id": id, "kind": kind }));
            }
            let mut map = Map::new();
            map.insert("changed_at".into(), json!(changed_at));
            map.insert("personsAndTeams".into(), Value::Array(persons));
            Ok(Some(Value::Object(map)))
        }
        ColumnKind::BoardRelation => {
            let ids: Vec<Value> = if let Some(Value::Array(ids)) = raw.get("item_ids") {
                ids.clone()
            } else if let Some(Value::Array(linked)) = raw.get("linkedPulseIds") {
                linked
                    .iter()
                    .map(|l| l.get("linkedPulseId").cloned().unwrap_or(Value::Null))
                    .collect()
            } else {
                return Err(bad(column, "board relation takes {\"item_ids\": [...]}"));
            };
            if column.connected_board_ids.is_empty() {
                return Err(column_value_error(
                    column,
                    "invalid value - connect boards column is not connected to any board",
                ));
            }
            let mut linked = Vec::new();
            for id in &ids {
                let id = id_of(id)
                    .and_then(|i| u64::try_from(i).ok())
                    .ok_or_else(|| bad(column, "item ids are numbers"))?;
                match item_board(id) {
                    Some(board) if column.connected_board_ids.contains(&board) => {
                        linked.push(json!({ "linkedPulseId": id }));
                    }
                    _ => {
                        return Err(column_value_error(
                            column,
                            format!(
                                "invalid value - item {id} is not on a board connected to column `{}`",
                                column.title
                            ),
                        ));
                    }
                }
            }
            if linked.is_empty() {
                return Ok(None);
            }
            let mut map = Map::new();
            map.insert("changed_at".into(), json!(changed_at));
            map.insert("linkedPulseIds".into(), Value::Array(linked));
            Ok(Some(Value::Object(map)))
        }
    }
}

/// Linked item ids of a stored board-relation value.
pub fn linked_ids(stored: Option<&Value>) -> Vec<u64> {
    stored
        .and_then(|v| v.get("linkedPulseIds"))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|e| e.get("linkedPulseId").and_then(Value::as_u64))
                .collect()
        })
        .unwrap_or_default()
}

/// Status index of a stored value.
pub fn status_index(stored: Option<&Value>) -> Option<i64> {
    stored.and_then(|v| v.get("index")).and_then(Value::as_i64)
}

/// Dropdown ids of a stored value.
pub fn dropdown_ids(stored: Option<&Value>) -> Vec<i64> {
    stored
        .and_then(|v| v.get("ids"))
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(id_of).collect())
        .unwrap_or_default()
}

fn str_field<'v>(stored: Option<&'v Value>, key: &str) -> Option<&'v str> {
    stored.and_then(|v| v.get(key)).and_then(Value::as_str)
}

/// The rendered `text` of a value (`""` when empty). Board relations render `""`; their
/// names are in `display_value`.
pub fn render_text(column: &Column, stored: Option<&Value>) -> String {
    let Some(value) = stored else {
        return String::new();
    };
    match column.kind {
        ColumnKind::Name | ColumnKind::Text | ColumnKind::Numbers => {
            value.as_str().unwrap_or_default().to_owned()
        }
        ColumnKind::LongText => str_field(stored, "text").unwrap_or_default().to_owned(),
        ColumnKind::Status => status_index(stored)
            .and_then(|i| column.label_by_id(i))
            .map(|l| l.text.clone())
            .unwrap_or_default(),
        ColumnKind::Dropdown => dropdown_ids(stored)
            .into_iter()
            .filter_map(|id| column.label_by_id(id).map(|l| l.text.clone()))
            .collect::<Vec<_>>()
            .join(", "),
        ColumnKind::Date => match (str_field(stored, "date"), str_field(stored, "time")) {
            (Some(d), Some(t)) => format!("{d} {t}"),
            (Some(d), None) => d.to_owned(),
            _ => String::new(),
        },
        ColumnKind::Email => str_field(stored, "email").unwrap_or_default().to_owned(),
        ColumnKind::Phone => str_field(stored, "phone").unwrap_or_default().to_owned(),
        ColumnKind::Link => match (str_field(stored, "text"), str_field(stored, "url")) {
            (Some(t), Some(u)) => format!("{t} - {u}"),
            (None, Some(u)) => u.to_owned(),
            _ => String::new(),
        },
        ColumnKind::Checkbox => {
            if str_field(stored, "checked") == Some("true") {
                "v".into()
            } else {
                String::new()
            }
        }
        ColumnKind::People => value
            .get("personsAndTeams")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|p| p.get("id").and_then(Value::as_u64))
                    .map(|id| format!("User {id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        ColumnKind::BoardRelation => String::new(),
    }
}

/// The value as a board webhook carries it in `value`/`previousValue` (a JSON object, not
/// a string). UNCERTAIN (reference §5.5): status, date, people and subitem shapes come from
/// real captures; text `{"value"}`, numbers `{"value"}`, long text `{"text"}` from a
/// third-party suite; dropdown `chosenValues` and board-relation `linkedPulseIds` are
/// assumptions.
pub fn webhook_value(column: &Column, stored: Option<&Value>) -> Value {
    let Some(value) = stored else {
        return Value::Null;
    };
    let changed_at = value.get("changed_at").cloned().unwrap_or(Value::Null);
    match column.kind {
        ColumnKind::Name | ColumnKind::Text => {
            json!({ "value": value.as_str().unwrap_or_default() })
        }
        ColumnKind::Numbers => json!({ "value": value.as_str().unwrap_or_default() }),
        ColumnKind::LongText => {
            json!({ "text": str_field(stored, "text"), "changed_at": changed_at })
        }
        ColumnKind::Status => match status_index(stored) {
            Some(index) => json!({
                "label": {
                    "index": index,
                    "text": column.label_by_id(index).map(|l| l.text.clone()),
                    "style": column.label_style(index),
                    "is_done": index == 1,
                },
                "post_id": null,
            }),
            None => Value::Null,
        },
        ColumnKind::Dropdown => json!({
            "chosenValues": dropdown_ids(stored)
                .into_iter()
                .filter_map(|id| column.label_by_id(id).map(|l| json!({ "id": id, "name": l.text })))
                .collect::<Vec<_>>(),
        }),
        ColumnKind::Date => json!({
            "date": str_field(stored, "date"),
            "icon": null,
            "time": str_field(stored, "time"),
            "changed_at": changed_at,
        }),
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Label;

    fn status() -> Column {
        Column {
            id: "color_x".into(),
            title: "Status".into(),
            kind: ColumnKind::Status,
            labels: vec![
                Label {
                    id: 0,
                    text: "Open".into(),
                },
                Label {
                    id: 1,
                    text: "Done".into(),
                },
            ],
            connected_board_ids: vec![],
        }
    }

    fn no_items(_: u64) -> Option<u64> {
        None
    }

    #[test]
    fn status_by_label_and_index_store_the_index() {
        let mut col = status();
        let by_label =
            write_value(&mut col, &json!({"label": "Done"}), false, "t", &no_items).unwrap();
        assert_eq!(by_label.as_ref().unwrap()["index"], 1);
        let by_index =
            write_value(&mut col, &json!({"index": "0"}), false, "t", &no_items).unwrap();
        assert_eq!(render_text(&col, by_index.as_ref()), "Open");
    }

    #[test]
    fn unknown_status_label_fails_unless_created() {
        let mut col = status();
        let err =
            write_value(&mut col, &json!({"label": "Won"}), false, "t", &no_items).unwrap_err();
        assert_eq!(err.code, "ColumnValueException");
        assert_eq!(err.error_data["column_type"], "color");
        let stored = write_value(&mut col, &json!({"label": "Won"}), true, "t", &no_items).unwrap();
        assert_eq!(render_text(&col, stored.as_ref()), "Won");
        assert!(col.label_by_text("Won").is_some());
    }

    #[test]
    fn simple_strings_convert_per_type() {
        let mut col = status();
        let stored = write_value(&mut col, &json!("Done"), false, "t", &no_items).unwrap();
        assert_eq!(status_index(stored.as_ref()), Some(1));
        let mut date = Column {
            kind: ColumnKind::Date,
            ..status()
        };
        let stored = write_value(
            &mut date,
            &json!("2024-06-15 14:30:00"),
            false,
            "t",
            &no_items,
        )
        .unwrap();
        assert_eq!(render_text(&date, stored.as_ref()), "2024-06-15 14:30:00");
        assert!(
            write_value(
                &mut date,
                &json!({"date": "15/06/2024"}),
                false,
                "t",
                &no_items
            )
            .is_err()
        );
    }

    fn column(kind: ColumnKind) -> Column {
        Column {
            id: "c".into(),
            title: "C".into(),
            kind,
            labels: vec![
                Label {
                    id: 1,
                    text: "A".into(),
                },
                Label {
                    id: 2,
                    text: "B".into(),
                },
            ],
            connected_board_ids: vec![7],
        }
    }

    fn write(kind: ColumnKind, raw: Value) -> Result<Option<Value>, ValueError> {
        let on_board_7 = |id: u64| (id == 70).then_some(7);
        write_value(
            &mut column(kind),
            &raw,
            false,
            "2026-01-01T00:00:00.000Z",
            &on_board_7,
        )
    }

    #[test]
    fn every_supported_type_stores_the_api_value_shape() {
        let stored = |kind, raw| write(kind, raw).unwrap().unwrap();
        assert_eq!(stored(ColumnKind::Text, json!(42)), json!("42"));
        assert_eq!(stored(ColumnKind::Numbers, json!(" 7.5 ")), json!("7.5"));
        assert_eq!(
            stored(ColumnKind::Dropdown, json!({"ids": ["2", 1]}))["ids"],
            json!([2, 1])
        );
        assert_eq!(
            stored(ColumnKind::Dropdown, json!("A, B"))["ids"],
            json!([1, 2])
        );
        let phone = stored(
            ColumnKind::Phone,
            json!({"phone": "11231234567", "countryShortName": "US"}),
        );
        assert_eq!(phone["countryShortName"], "US");
        assert!(phone["changed_at"].is_string());
        assert_eq!(
            stored(ColumnKind::Phone, json!("11231234567 US"))["phone"],
            "11231234567"
        );
        let link = stored(
            ColumnKind::Link,
            json!({"url": "https://x.com", "text": "X"}),
        );
        assert_eq!(
            render_text(&column(ColumnKind::Link), Some(&link)),
            "X - https://x.com"
        );
        let email = stored(ColumnKind::Email, json!("a@b.com Ada"));
        assert_eq!(
            (email["email"].clone(), email["text"].clone()),
            (json!("a@b.com"), json!("Ada"))
        );
        assert_eq!(
            stored(ColumnKind::Checkbox, json!({"checked": "true"}))["checked"],
            "true"
        );
        let people = stored(
            ColumnKind::People,
            json!({"personsAndTeams": [{"id": 5, "kind": "team"}]}),
        );
        assert_eq!(
            people["personsAndTeams"],
            json!([{"id": 5, "kind": "team"}])
        );
        let relation = stored(ColumnKind::BoardRelation, json!({"item_ids": [70]}));
        assert_eq!(linked_ids(Some(&relation)), [70]);
        let date = stored(
            ColumnKind::Date,
            json!({"date": "2024-06-15", "time": "14:30"}),
        );
        assert_eq!(date["time"], "14:30:00");
    }

    #[test]
    fn malformed_values_and_clears() {
        assert!(write(ColumnKind::Numbers, json!("seven")).is_err());
        assert!(
            write(
                ColumnKind::Phone,
                json!({"phone": "123", "countryShortName": "usa"})
            )
            .is_err()
        );
        assert!(write(ColumnKind::Email, json!({"email": "not-an-email"})).is_err());
        assert!(write(ColumnKind::Dropdown, json!({"labels": ["A"], "ids": [1]})).is_err());
        assert!(write(ColumnKind::Dropdown, json!({"ids": [9]})).is_err());
        assert!(write(ColumnKind::BoardRelation, json!({"item_ids": [71]})).is_err());
        assert!(
            write(
                ColumnKind::People,
                json!({"personsAndTeams": [{"id": 1, "kind": "robot"}]})
            )
            .is_err()
        );
        assert_eq!(
            write(ColumnKind::Checkbox, json!({"checked": false})).unwrap(),
            None
        );
        assert_eq!(write(ColumnKind::Status, Value::Null).unwrap(), None);
        assert_eq!(write(ColumnKind::Text, json!("")).unwrap(), Some(json!("")));
        let err = write(ColumnKind::Checkbox, json!("yes")).unwrap_err();
        assert_eq!(err.code, "CorrectedValueException");
    }
}
