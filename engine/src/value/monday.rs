//! monday column values ↔ [`Value`].
//!
//! Three formats exist (see `monday-api.md` §4.2 and §5.5):
//! - the API read format: a `ColumnValue` with `text`, a `value` JSON *string* (or null), typed
//!   fragment fields (`label`, `values`, `linked_item_ids`) — [`ColumnRead`] and [`read`];
//! - the webhook format: `value` / `previousValue` JSON *objects* whose shapes differ —
//!   [`read_webhook`];
//! - the write format for `column_values` — [`write()`].
//!
//! Metadata keys inside stored values (`changed_at`, `post_id`, `icon`, …) are ignored on read,
//! so two stored values that differ only there read as the same `Value`.

use std::collections::BTreeMap;

use crmmap_dsl::model::{ColumnType, Kind};
use serde_json::{Value as Json, json};

use super::{Number, Value, format_date, parse_date, parse_datetime};
use crate::error::{Code, EvalError};

/// The country given to phone numbers written to monday, which validates phone numbers against a
/// country. UNCERTAIN: monday requires `countryShortName` on writes (`monday-api.md` §4.2) and a
/// Salesforce phone field carries no country; the seed data is US-only, so `US` is assumed.
pub const PHONE_COUNTRY: &str = "US";

/// The longest item name monday accepts, in characters (`monday-api.md` §4.1: 1–255).
pub const MAX_ITEM_NAME: usize = 255;

/// An item name as monday will store it: cut to [`MAX_ITEM_NAME`] characters.
pub fn item_name(name: &str) -> String {
    name.chars().take(MAX_ITEM_NAME).collect()
}

/// How a people column's team entries read as labels (`team:7`); persons read as their bare id.
const TEAM_PREFIX: &str = "team:";

/// A column value as read through the API (`items { column_values { … } }`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnRead {
    /// `text`: the display text (`""` when empty).
    pub text: Option<String>,
    /// `value`, already parsed from its JSON string; `None` when it was null.
    pub value: Option<Json>,
    /// `BoardRelationValue.linked_item_ids`.
    pub linked_item_ids: Vec<String>,
    /// Labels from typed fragments: `StatusValue.label` (one) or `DropdownValue.values[].label`.
    pub labels: Option<Vec<String>>,
}

impl ColumnRead {
    /// Reads a `ColumnValue` object as the API returns it: `value` is a JSON string to parse;
    /// `label`, `values` and `linked_item_ids` are picked up when the query asked for them.
    pub fn from_api(cv: &Json) -> Result<ColumnRead, EvalError> {
        let shape =
            |what: &str| EvalError::new(Code::MondayValueShape, format!("column value {what}"));
        let obj = cv.as_object().ok_or_else(|| shape("is not an object"))?;
        let text = obj.get("text").and_then(Json::as_str).map(str::to_owned);
        let value = match obj.get("value") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(
                serde_json::from_str(s).map_err(|_| shape(&format!("`{s}` is not valid JSON")))?,
            ),
            // Some clients hand the value already parsed.
            Some(other) => Some(other.clone()),
        };
        let linked_item_ids = obj
            .get("linked_item_ids")
            .and_then(Json::as_array)
            .map(|ids| ids.iter().filter_map(id_text).collect())
            .unwrap_or_default();
        let labels = if let Some(values) = obj.get("values").and_then(Json::as_array) {
            Some(
                values
                    .iter()
                    .filter_map(|v| v.get("label").and_then(Json::as_str).map(str::to_owned))
                    .collect(),
            )
        } else {
            match obj.get("label") {
                Some(Json::String(l)) => Some(vec![l.clone()]),
                Some(Json::Null) => Some(vec![]),
                _ => None,
            }
        };
        Ok(ColumnRead {
            text,
            value,
            linked_item_ids,
            labels,
        })
    }
}

/// A status or dropdown column's labels by index or id, from `Column.settings`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSettings {
    by_id: BTreeMap<i64, String>,
}

impl LabelSettings {
    /// Reads `Column.settings` (parsed JSON): status `{"labels":{"1":"Done",…}}` or dropdown
    /// `{"labels":[{"id":1,"name":"A"},…]}`.
    pub fn from_settings(settings: &Json) -> LabelSettings {
        let mut by_id = BTreeMap::new();
        match settings.get("labels") {
            Some(Json::Object(map)) => {
                for (k, v) in map {
                    if let (Ok(id), Some(l)) = (k.parse(), v.as_str()) {
                        by_id.insert(id, l.to_owned());
                    }
                }
            }
            Some(Json::Array(items)) => {
                for item in items {
                    let id = item
                        .get("id")
                        .and_then(|i| i.as_i64().or_else(|| i.as_str()?.parse().ok()));
                    let name = item
                        .get("name")
                        .or_else(|| item.get("label"))
                        .and_then(Json::as_str);
                    if let (Some(id), Some(name)) = (id, name) {
                        by_id.insert(id, name.to_owned());
                    }
                }
            }
            _ => {}
        }
        LabelSettings { by_id }
    }

    /// Settings from `(id, label)` pairs.
    pub fn from_pairs<I: IntoIterator<Item = (i64, S)>, S: Into<String>>(
        pairs: I,
    ) -> LabelSettings {
        LabelSettings {
            by_id: pairs.into_iter().map(|(i, s)| (i, s.into())).collect(),
        }
    }

    /// The label with this index or id.
    pub fn label(&self, id: i64) -> Option<&str> {
        self.by_id.get(&id).map(String::as_str)
    }
}

fn id_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_i64(v: &Json) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

fn shape(column_type: ColumnType, v: &Json) -> EvalError {
    EvalError::new(
        Code::MondayValueShape,
        format!("unexpected {column_type} column value `{v}`"),
    )
}

fn text_value(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::text(s)
    }
}

fn str_field(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

/// Reads a number from `"42"`, `42`, `{"value":"42"}` or `""` (objects are unwrapped in a
/// loop, so nesting depth costs no stack).
fn number_value(column_type: ColumnType, v: &Json) -> Result<Value, EvalError> {
    let mut at = v;
    while let Json::Object(o) = at {
        match o.get("value").or_else(|| o.get("number")) {
            Some(inner) => at = inner,
            None if o.keys().all(|k| k == "changed_at") => return Ok(Value::Null),
            None => return Err(shape(column_type, v)),
        }
    }
    match at {
        Json::Null => Ok(Value::Null),
        Json::String(s) if s.trim().is_empty() => Ok(Value::Null),
        Json::String(s) => Ok(Value::Number(Number::parse(s)?)),
        Json::Number(n) => Ok(Value::Number(Number::from_json(n)?)),
        _ => Err(shape(column_type, v)),
    }
}

/// Reads a date column's `{"date":…, "time":…}` (time in UTC): a date, or an instant with a time.
fn date_value(v: &Json) -> Result<Value, EvalError> {
    let Some(date) = v
        .get("date")
        .and_then(Json::as_str)
        .filter(|d| !d.is_empty())
    else {
        return Ok(Value::Null);
    };
    match v
        .get("time")
        .and_then(Json::as_str)
        .filter(|t| !t.is_empty())
    {
        Some(time) => Ok(Value::DateTime(parse_datetime(&format!("{date} {time}"))?)),
        None => Ok(Value::Date(parse_date(date)?)),
    }
}

fn checkbox_value(column_type: ColumnType, v: &Json) -> Result<Value, EvalError> {
    match v.get("checked") {
        None | Some(Json::Null) => Ok(Value::Null),
        Some(Json::Bool(b)) => Ok(Value::Bool(*b)),
        Some(Json::String(s)) => Ok(Value::Bool(super::parse_bool(s)?)),
        Some(_) => Err(shape(column_type, v)),
    }
}

fn people_value(v: &Json) -> Value {
    let entries = v
        .get("personsAndTeams")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    Value::Labels(
        entries
            .iter()
            .filter_map(|e| {
                let id = id_text(e.get("id")?)?;
                Some(if e.get("kind").and_then(Json::as_str) == Some("team") {
                    format!("{TEAM_PREFIX}{id}")
                } else {
                    id
                })
            })
            .collect(),
    )
}

fn linked_pulses(v: &Json) -> Vec<String> {
    if let Some(ids) = v.get("item_ids").and_then(Json::as_array) {
        return ids.iter().filter_map(id_text).collect();
    }
    v.get("linkedPulseIds")
        .and_then(Json::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|p| id_text(p.get("linkedPulseId")?))
                .collect()
        })
        .unwrap_or_default()
}

/// Splits a dropdown's display text (`"A, B"`); the fallback when neither labels nor settings
/// are at hand. Labels that contain `", "` cannot be told apart this way.
fn split_display(text: &str) -> Vec<String> {
    text.split(", ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads an API column value.
///
/// `labels` resolves status indexes and dropdown ids when the read did not include the typed
/// fragment labels.
///
/// ```
/// use crmmap_dsl::model::ColumnType;
/// use crmmap_engine::value::{Value, monday::{ColumnRead, read}};
/// let cv = serde_json::json!({"type": "long_text", "text": "Hi",
///     "value": "{\"text\":\"Hi\",\"changed_at\":\"2024-11-19T13:43:36.060Z\"}"});
/// let v = read(ColumnType::LongText, &ColumnRead::from_api(&cv).unwrap(), None).unwrap();
/// assert_eq!(v, Value::text("Hi"));
/// ```
pub fn read(
    column_type: ColumnType,
    cv: &ColumnRead,
    labels: Option<&LabelSettings>,
) -> Result<Value, EvalError> {
    let text = cv.text.as_deref().unwrap_or("");
    let Some(v) = &cv.value else {
        // An empty column; board relations have a null value since 2025-04 and list their items.
        return Ok(match column_type {
            ColumnType::BoardRelation if !cv.linked_item_ids.is_empty() => {
                Value::Labels(cv.linked_item_ids.clone())
            }
            ColumnType::Dropdown | ColumnType::People | ColumnType::BoardRelation => {
                match &cv.labels {
                    Some(l) if !l.is_empty() => Value::Labels(l.clone()),
                    _ => Value::Null,
                }
            }
            _ => Value::Null,
        });
    };
    match column_type {
        ColumnType::Text | ColumnType::Email | ColumnType::Phone | ColumnType::Link => match v {
            Json::String(s) => Ok(text_value(s)),
            Json::Object(_) => {
                let key = match column_type {
                    ColumnType::Email => "email",
                    ColumnType::Phone => "phone",
                    ColumnType::Link => "url",
                    _ => "value",
                };
                Ok(str_field(v, key)
                    .or_else(|| str_field(v, "text"))
                    .map_or(Value::Null, |s| text_value(&s)))
            }
            Json::Null => Ok(Value::Null),
            // A number or boolean stored in a text column reads as its text.
            Json::Number(n) => Ok(Value::text(n.to_string())),
            Json::Bool(b) => Ok(Value::text(b.to_string())),
            _ => Err(shape(column_type, v)),
        },
        ColumnType::LongText => match v {
            Json::String(s) => Ok(text_value(s)),
            Json::Object(_) => Ok(str_field(v, "text").map_or(Value::Null, |s| text_value(&s))),
            _ => Err(shape(column_type, v)),
        },
        ColumnType::Numbers => number_value(column_type, v),
        ColumnType::Status => {
            if let Some(l) = &cv.labels {
                return Ok(l.first().map_or(Value::Null, |s| text_value(s)));
            }
            let Some(index) = v.get("index").and_then(as_i64) else {
                // Cleared: `{"changed_at": …}` with no index.
                return Ok(Value::Null);
            };
            if !text.is_empty() {
                return Ok(Value::text(text));
            }
            match labels.and_then(|l| l.label(index)) {
                Some(l) => Ok(text_value(l)),
                None => Err(EvalError::new(
                    Code::UnknownLabelId,
                    format!("status index `{index}` has no known label"),
                )),
            }
        }
        ColumnType::Dropdown => {
            if let Some(l) = &cv.labels {
                return Ok(Value::Labels(l.clone()));
            }
            if let Some(ls) = v.get("labels").and_then(Json::as_array) {
                return Ok(Value::Labels(
                    ls.iter()
                        .filter_map(|l| l.as_str().map(str::to_owned))
                        .collect(),
                ));
            }
            let ids: Vec<i64> = v
                .get("ids")
                .and_then(Json::as_array)
                .map(|ids| ids.iter().filter_map(as_i64).collect())
                .unwrap_or_default();
            if ids.is_empty() {
                return Ok(Value::Null);
            }
            if let Some(settings) = labels {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    match settings.label(id) {
                        Some(l) => out.push(l.to_owned()),
                        None => {
                            return Err(EvalError::new(
                                Code::UnknownLabelId,
                                format!("dropdown id `{id}` has no known label"),
                            ));
                        }
                    }
                }
                return Ok(Value::Labels(out));
            }
            if !text.is_empty() {
                return Ok(Value::Labels(split_display(text)));
            }
            Err(EvalError::new(
                Code::UnknownLabelId,
                "dropdown ids need the column's label settings",
            ))
        }
        ColumnType::Date => date_value(v),
        ColumnType::Checkbox => checkbox_value(column_type, v),
        ColumnType::People => Ok(people_value(v)),
        ColumnType::BoardRelation => {
            if !cv.linked_item_ids.is_empty() {
                return Ok(Value::Labels(cv.linked_item_ids.clone()));
            }
            Ok(Value::Labels(linked_pulses(v)))
        }
    }
}

/// The column type named by a webhook's legacy `columnType` (`color`, `long-text`, `numeric`, …),
/// or by an API type name.
pub fn column_type_from_webhook(name: &str) -> Option<ColumnType> {
    Some(match name {
        "color" => ColumnType::Status,
        "long-text" => ColumnType::LongText,
        "numeric" => ColumnType::Numbers,
        "boolean" => ColumnType::Checkbox,
        "multiple-person" => ColumnType::People,
        // UNCERTAIN: no real capture of a board-relation webhook; both spellings are accepted.
        "board-relation" => ColumnType::BoardRelation,
        other => return ColumnType::from_keyword(other),
    })
}

/// Reads a webhook `value` or `previousValue` object.
///
/// Shapes: status `{"label":{"text":…}}`, date `{"date":…,"time":…}`, text `{"value":…}`, long
/// text `{"text":…}`, numbers `{"value":"7"}` or a bare number, dropdown
/// `{"chosenValues":[{"name":…}]}`, board relation `{"linkedPulseIds":[{"linkedPulseId":N}]}`,
/// people `{"personsAndTeams":[…]}`; `null` and `{}` are empty. Where a shape is UNCERTAIN
/// (`monday-api.md` §5.5) the API read shapes are accepted too.
///
/// ```
/// use crmmap_dsl::model::ColumnType;
/// use crmmap_engine::value::{Value, monday::read_webhook};
/// let v = serde_json::json!({"label": {"index": 0, "text": "Working on it"}, "post_id": null});
/// assert_eq!(read_webhook(ColumnType::Status, &v, None).unwrap(), Value::text("Working on it"));
/// ```
pub fn read_webhook(
    column_type: ColumnType,
    v: &Json,
    labels: Option<&LabelSettings>,
) -> Result<Value, EvalError> {
    if v.is_null() || v.as_object().is_some_and(serde_json::Map::is_empty) {
        return Ok(Value::Null);
    }
    // A shape the webhook does not use: read it as the API's.
    let as_api = || {
        read(
            column_type,
            &ColumnRead {
                value: Some(v.clone()),
                ..ColumnRead::default()
            },
            labels,
        )
    };
    match column_type {
        ColumnType::Status => match v.get("label") {
            Some(Json::Object(l)) => Ok(l
                .get("text")
                .and_then(Json::as_str)
                .map_or(Value::Null, text_value)),
            Some(Json::String(s)) => Ok(text_value(s)),
            Some(Json::Null) => Ok(Value::Null),
            _ => as_api(),
        },
        ColumnType::Dropdown => {
            if let Some(chosen) = v.get("chosenValues").and_then(Json::as_array) {
                return Ok(Value::Labels(
                    chosen
                        .iter()
                        .filter_map(|c| c.get("name").and_then(Json::as_str).map(str::to_owned))
                        .collect(),
                ));
            }
            as_api()
        }
        ColumnType::Numbers => number_value(column_type, v),
        ColumnType::Text => match v {
            Json::String(s) => Ok(text_value(s)),
            _ => Ok(str_field(v, "value")
                .or_else(|| str_field(v, "text"))
                .map_or(Value::Null, |s| text_value(&s))),
        },
        _ => as_api(),
    }
}

fn single_text(column_type: ColumnType, v: &Value) -> Result<String, EvalError> {
    match v.convert(Kind::Text) {
        Ok(Value::Text(s)) => Ok(s),
        Ok(_) => Ok(String::new()),
        Err(e) => Err(e.with_message_prefix(column_type)),
    }
}

trait Prefix {
    fn with_message_prefix(self, column_type: ColumnType) -> Self;
}

impl Prefix for EvalError {
    fn with_message_prefix(mut self, column_type: ColumnType) -> Self {
        self.message = format!("{} for a {column_type} column", self.message);
        self
    }
}

fn labels_of(column_type: ColumnType, v: &Value) -> Result<Vec<String>, EvalError> {
    Ok(match v {
        Value::Null => vec![],
        Value::Labels(l) => l.iter().filter(|s| !s.is_empty()).cloned().collect(),
        other => vec![single_text(column_type, other)?],
    })
}

/// An id as monday writes them: a number when the text is one exactly (`"0123"` and `"+5"`
/// stay text, so what is written reads back as it was).
fn id_json(id: &str) -> Json {
    match id.parse::<u64>() {
        Ok(n) if n.to_string() == id => json!(n),
        _ => json!(id),
    }
}

fn ids_json(ids: &[String]) -> Vec<Json> {
    ids.iter().map(|id| id_json(id)).collect()
}

/// The JSON to put in `column_values` for a column, or the clearing value when `v` is empty.
///
/// Clearing values: `""` for text and numbers, `null` for every JSON column (checkbox included:
/// an unchecked box is cleared, never `{"checked":"false"}`).
///
/// ```
/// use crmmap_dsl::model::ColumnType;
/// use crmmap_engine::value::{Value, monday::write};
/// let v = Value::labels(["A", "B"]);
/// assert_eq!(write(ColumnType::Dropdown, &v).unwrap(), serde_json::json!({"labels": ["A", "B"]}));
/// assert_eq!(write(ColumnType::Text, &Value::Null).unwrap(), serde_json::json!(""));
/// ```
pub fn write(column_type: ColumnType, v: &Value) -> Result<Json, EvalError> {
    if v.is_empty() {
        return Ok(match column_type {
            ColumnType::Text | ColumnType::Numbers => json!(""),
            _ => Json::Null,
        });
    }
    Ok(match column_type {
        ColumnType::Text => json!(single_text(column_type, v)?),
        ColumnType::LongText => json!({ "text": single_text(column_type, v)? }),
        ColumnType::Numbers => match v
            .convert(Kind::Number)
            .map_err(|e| e.with_message_prefix(column_type))?
        {
            Value::Number(n) => json!(n.to_string()),
            _ => json!(""),
        },
        ColumnType::Status => json!({ "label": single_text(column_type, v)? }),
        ColumnType::Dropdown => json!({ "labels": labels_of(column_type, v)? }),
        ColumnType::Date => match v {
            Value::DateTime(t) => {
                let t = super::in_utc(*t);
                json!({
                    "date": format_date(t.date()),
                    "time": format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
                })
            }
            other => match other
                .convert(Kind::Date)
                .map_err(|e| e.with_message_prefix(column_type))?
            {
                Value::Date(d) => json!({ "date": format_date(d) }),
                _ => Json::Null,
            },
        },
        ColumnType::Email => {
            let s = single_text(column_type, v)?;
            json!({ "email": s, "text": s })
        }
        ColumnType::Phone => {
            json!({ "phone": single_text(column_type, v)?, "countryShortName": PHONE_COUNTRY })
        }
        ColumnType::Link => {
            let s = single_text(column_type, v)?;
            json!({ "url": s, "text": s })
        }
        ColumnType::Checkbox => match v
            .convert(Kind::Bool)
            .map_err(|e| e.with_message_prefix(column_type))?
        {
            Value::Bool(true) => json!({ "checked": "true" }),
            _ => Json::Null,
        },
        ColumnType::People => {
            let entries: Vec<Json> = labels_of(column_type, v)?
                .iter()
                .map(|l| match l.strip_prefix(TEAM_PREFIX) {
                    Some(team) => json!({ "id": id_json(team), "kind": "team" }),
                    None => json!({ "id": id_json(l), "kind": "person" }),
                })
                .collect();
            json!({ "personsAndTeams": entries })
        }
        ColumnType::BoardRelation => json!({ "item_ids": ids_json(&labels_of(column_type, v)?) }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn api(t: &str, text: &str, value: Option<&str>) -> ColumnRead {
        let cv = json!({"type": t, "text": text, "value": value});
        ColumnRead::from_api(&cv).unwrap()
    }

    #[test]
    fn reads_api_values_of_every_mapped_type() {
        let cases: Vec<(ColumnType, ColumnRead, Value)> = vec![
            (
                ColumnType::Text,
                api("text", "Hello", Some("\"Hello\"")),
                Value::text("Hello"),
            ),
            (ColumnType::Text, api("text", "", Some("\"\"")), Value::Null),
            (ColumnType::Text, api("text", "", None), Value::Null),
            (
                ColumnType::LongText,
                api(
                    "long_text",
                    "Sample",
                    Some(r#"{"text":"Sample","changed_at":"2024-11-19T13:43:36.060Z"}"#),
                ),
                Value::text("Sample"),
            ),
            (
                ColumnType::Numbers,
                api("numbers", "1231", Some("\"1231\"")),
                Value::Number(Number::from_i64(1231)),
            ),
            (
                ColumnType::Numbers,
                api("numbers", "", Some("\"\"")),
                Value::Null,
            ),
            (
                ColumnType::Status,
                api("status", "Done", Some(r#"{"index":1,"post_id":null}"#)),
                Value::text("Done"),
            ),
            (
                ColumnType::Status,
                api(
                    "status",
                    "",
                    Some(r#"{"changed_at":"2024-11-20T05:32:53.428Z"}"#),
                ),
                Value::Null,
            ),
            (
                ColumnType::Date,
                api(
                    "date",
                    "2025-05-30",
                    Some(r#"{"date":"2025-05-30","changed_at":"x","icon":null}"#),
                ),
                Value::Date(date!(2025 - 05 - 30)),
            ),
            (
                ColumnType::Date,
                api(
                    "date",
                    "",
                    Some(r#"{"date":"2024-06-15","time":"14:30:00"}"#),
                ),
                Value::DateTime(datetime!(2024-06-15 14:30 UTC)),
            ),
            (
                ColumnType::Email,
                api("email", "", Some(r#"{"email":"a@b.com","text":"A"}"#)),
                Value::text("a@b.com"),
            ),
            (
                ColumnType::Phone,
                api(
                    "phone",
                    "",
                    Some(r#"{"phone":"11231234567","changed_at":"x","countryShortName":"US"}"#),
                ),
                Value::text("11231234567"),
            ),
            (
                ColumnType::Link,
                api(
                    "link",
                    "",
                    Some(r#"{"url":"http://monday.com","text":"go to monday!"}"#),
                ),
                Value::text("http://monday.com"),
            ),
            (
                ColumnType::Checkbox,
                api("checkbox", "", Some(r#"{"checked":false}"#)),
                Value::Bool(false),
            ),
            (
                ColumnType::Checkbox,
                api(
                    "checkbox",
                    "v",
                    Some(r#"{"checked":"true","changed_at":"x"}"#),
                ),
                Value::Bool(true),
            ),
            (
                ColumnType::People,
                api(
                    "people",
                    "",
                    Some(
                        r#"{"personsAndTeams":[{"id":76184316,"kind":"person"},{"id":7,"kind":"team"}]}"#,
                    ),
                ),
                Value::labels(["76184316", "team:7"]),
            ),
            (
                ColumnType::BoardRelation,
                api(
                    "board_relation",
                    "",
                    Some(r#"{"changed_at":"x","linkedPulseIds":[{"linkedPulseId":9876543210}]}"#),
                ),
                Value::labels(["9876543210"]),
            ),
        ];
        for (t, cv, want) in cases {
            assert_eq!(read(t, &cv, None).unwrap(), want, "{t} {cv:?}");
        }
    }

    #[test]
    fn board_relation_reads_linked_item_ids_when_value_is_null() {
        let cv = ColumnRead::from_api(
            &json!({"type":"board_relation","text":"","value":null,"linked_item_ids":["12","34"]}),
        )
        .unwrap();
        assert_eq!(
            read(ColumnType::BoardRelation, &cv, None).unwrap(),
            Value::labels(["12", "34"])
        );
    }

    #[test]
    fn status_and_dropdown_resolve_ids_through_settings() {
        let status =
            LabelSettings::from_settings(&json!({"labels":{"0":"Working on it","1":"Done"}}));
        let cv = api("status", "", Some(r#"{"index":1}"#));
        assert_eq!(
            read(ColumnType::Status, &cv, Some(&status)).unwrap(),
            Value::text("Done")
        );
        let cv = api("status", "", Some(r#"{"index":9}"#));
        assert_eq!(
            read(ColumnType::Status, &cv, Some(&status))
                .unwrap_err()
                .code,
            Code::UnknownLabelId
        );

        let dd = LabelSettings::from_settings(
            &json!({"labels":[{"id":1,"name":"A, Inc"},{"id":2,"name":"B"}]}),
        );
        let cv = api(
            "dropdown",
            "A, Inc, B",
            Some(r#"{"ids":[1,2],"changed_at":"x"}"#),
        );
        assert_eq!(
            read(ColumnType::Dropdown, &cv, Some(&dd)).unwrap(),
            Value::labels(["A, Inc", "B"])
        );
        // Without settings the display text is split.
        let cv = api("dropdown", "A, B", Some(r#"{"ids":[1,2]}"#));
        assert_eq!(
            read(ColumnType::Dropdown, &cv, None).unwrap(),
            Value::labels(["A", "B"])
        );
        let cv = api("dropdown", "", Some(r#"{"ids":[1]}"#));
        assert_eq!(
            read(ColumnType::Dropdown, &cv, None).unwrap_err().code,
            Code::UnknownLabelId
        );
        // Typed fragment labels win.
        let cv = ColumnRead::from_api(&json!({"type":"dropdown","text":"x","value":"{\"ids\":[1]}","values":[{"id":1,"label":"Q"}]}))
            .unwrap();
        assert_eq!(
            read(ColumnType::Dropdown, &cv, None).unwrap(),
            Value::labels(["Q"])
        );
    }

    #[test]
    fn reads_webhook_values() {
        let cases = vec![
            (
                ColumnType::Status,
                json!({"label":{"index":0,"text":"Working on it","is_done":false},"post_id":null}),
                Value::text("Working on it"),
            ),
            (
                ColumnType::Date,
                json!({"date":"2025-02-05","icon":null,"time":null,"changed_at":"x"}),
                Value::Date(date!(2025 - 02 - 05)),
            ),
            (ColumnType::Text, json!({"value":"hi"}), Value::text("hi")),
            (
                ColumnType::LongText,
                json!({"text":"a\nb","changed_at":"x"}),
                Value::text("a\nb"),
            ),
            (
                ColumnType::Numbers,
                json!({"value":"7"}),
                Value::Number(Number::from_i64(7)),
            ),
            (
                ColumnType::Numbers,
                json!(7.5),
                Value::Number(Number::parse("7.5").unwrap()),
            ),
            (
                ColumnType::Dropdown,
                json!({"chosenValues":[{"id":1,"name":"A"},{"id":2,"name":"B"}]}),
                Value::labels(["A", "B"]),
            ),
            (
                ColumnType::BoardRelation,
                json!({"linkedPulseIds":[{"linkedPulseId":8401360357_u64}]}),
                Value::labels(["8401360357"]),
            ),
            (
                ColumnType::People,
                json!({"personsAndTeams":[{"id":67214742,"kind":"person"}]}),
                Value::labels(["67214742"]),
            ),
            (ColumnType::Status, json!(null), Value::Null),
            (ColumnType::Text, json!({}), Value::Null),
        ];
        for (t, v, want) in cases {
            assert_eq!(read_webhook(t, &v, None).unwrap(), want, "{t} {v}");
        }
    }

    #[test]
    fn item_names_are_cut_to_what_monday_accepts() {
        assert_eq!(item_name("Acme"), "Acme");
        let long = "é".repeat(300);
        assert_eq!(item_name(&long).chars().count(), MAX_ITEM_NAME);
        let cv = api("text", "", Some("42"));
        assert_eq!(
            read(ColumnType::Text, &cv, None).unwrap(),
            Value::text("42")
        );
    }

    #[test]
    fn odd_values_are_errors_or_values_never_panics() {
        // Nesting that once recursed, ids that are not numbers, dates that are not dates.
        let mut deep = json!("5");
        for _ in 0..1_000 {
            deep = json!({ "value": deep });
        }
        assert_eq!(
            read_webhook(ColumnType::Numbers, &deep, None).unwrap(),
            Value::Number(Number::from_i64(5))
        );
        assert_eq!(
            write(ColumnType::People, &Value::labels(["team:é", "ü"])).unwrap(),
            json!({"personsAndTeams":[{"id":"é","kind":"team"},{"id":"ü","kind":"person"}]})
        );
        let date = json!({"date": "2024-01-01", "time": "10:00:00.12345678é"});
        assert_eq!(
            read_webhook(ColumnType::Date, &date, None)
                .unwrap_err()
                .code,
            Code::NotADateTime
        );
        let date = json!({"date": "2024-01-0é"});
        assert_eq!(
            read_webhook(ColumnType::Date, &date, None)
                .unwrap_err()
                .code,
            Code::NotADate
        );
        assert_eq!(item_name(&"ü".repeat(256)), "ü".repeat(MAX_ITEM_NAME));
    }

    #[test]
    fn legacy_webhook_type_names() {
        assert_eq!(column_type_from_webhook("color"), Some(ColumnType::Status));
        assert_eq!(
            column_type_from_webhook("long-text"),
            Some(ColumnType::LongText)
        );
        assert_eq!(
            column_type_from_webhook("numeric"),
            Some(ColumnType::Numbers)
        );
        assert_eq!(
            column_type_from_webhook("dropdown"),
            Some(ColumnType::Dropdown)
        );
        assert_eq!(
            column_type_from_webhook("board-relation"),
            Some(ColumnType::BoardRelation)
        );
        assert_eq!(column_type_from_webhook("hour"), None);
    }

    #[test]
    fn writes_every_type() {
        let n = |s: &str| Value::Number(Number::parse(s).unwrap());
        let cases = vec![
            (ColumnType::Text, Value::text("x"), json!("x")),
            (
                ColumnType::LongText,
                Value::text("a\nb"),
                json!({"text":"a\nb"}),
            ),
            (ColumnType::Numbers, n("42.50"), json!("42.5")),
            (
                ColumnType::Status,
                Value::text("Done"),
                json!({"label":"Done"}),
            ),
            (
                ColumnType::Dropdown,
                Value::labels(["A", "B"]),
                json!({"labels":["A","B"]}),
            ),
            (
                ColumnType::Date,
                Value::Date(date!(2024 - 06 - 15)),
                json!({"date":"2024-06-15"}),
            ),
            (
                ColumnType::Date,
                Value::DateTime(datetime!(2024-06-15 14:30 +02:00)),
                json!({"date":"2024-06-15","time":"12:30:00"}),
            ),
            (
                ColumnType::Email,
                Value::text("a@b.com"),
                json!({"email":"a@b.com","text":"a@b.com"}),
            ),
            (
                ColumnType::Phone,
                Value::text("11231234567"),
                json!({"phone":"11231234567","countryShortName":"US"}),
            ),
            (
                ColumnType::Link,
                Value::text("https://x.com"),
                json!({"url":"https://x.com","text":"https://x.com"}),
            ),
            (
                ColumnType::Checkbox,
                Value::Bool(true),
                json!({"checked":"true"}),
            ),
            (ColumnType::Checkbox, Value::Bool(false), Json::Null),
            (
                ColumnType::People,
                Value::labels(["5", "team:7"]),
                json!({"personsAndTeams":[{"id":5,"kind":"person"},{"id":7,"kind":"team"}]}),
            ),
            (
                ColumnType::BoardRelation,
                Value::labels(["123", "456"]),
                json!({"item_ids":[123,456]}),
            ),
        ];
        for (t, v, want) in cases {
            assert_eq!(write(t, &v).unwrap(), want, "{t} {v:?}");
        }
    }

    #[test]
    fn clears_per_type() {
        for t in ColumnType::ALL {
            let want = if matches!(t, ColumnType::Text | ColumnType::Numbers) {
                json!("")
            } else {
                Json::Null
            };
            assert_eq!(write(*t, &Value::Null).unwrap(), want, "{t}");
            assert_eq!(write(*t, &Value::text("")).unwrap(), want, "{t}");
        }
    }

    #[test]
    fn write_rejects_values_a_column_cannot_hold() {
        assert_eq!(
            write(ColumnType::Numbers, &Value::text("abc"))
                .unwrap_err()
                .code,
            Code::NotANumber
        );
        assert_eq!(
            write(ColumnType::Checkbox, &Value::text("maybe"))
                .unwrap_err()
                .code,
            Code::NotABoolean
        );
    }

    #[test]
    fn every_written_value_reads_back() {
        let values = [
            (ColumnType::Text, Value::text("x")),
            (ColumnType::LongText, Value::text("x")),
            (
                ColumnType::Numbers,
                Value::Number(Number::parse("-3.25").unwrap()),
            ),
            (ColumnType::Status, Value::text("Done")),
            (ColumnType::Dropdown, Value::labels(["A"])),
            (ColumnType::Date, Value::Date(date!(2024 - 01 - 31))),
            (ColumnType::Email, Value::text("a@b.co")),
            (ColumnType::Phone, Value::text("123")),
            (ColumnType::Link, Value::text("https://a")),
            (ColumnType::Checkbox, Value::Bool(true)),
            (ColumnType::People, Value::labels(["1"])),
            (ColumnType::BoardRelation, Value::labels(["9"])),
        ];
        for (t, v) in values {
            let written = write(t, &v).unwrap();
            // The emulator and monday store what was written; a status stores its label.
            let back = read_webhook(t, &written, None).unwrap();
            assert!(
                back.same_as(&v, t.kind()),
                "{t}: {v:?} -> {written} -> {back:?}"
            );
        }
    }
}
