//! Wire types: token responses, query pages, records, save results, describe, limits.
//! They deserialize the payloads recorded in `tests/fixtures/` and serialize back to the same
//! field names, so a describe can be saved as a schema snapshot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ErrorDetail;
use crmmap_secret::Secret;

/// `POST /services/oauth2/token` success body.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub instance_url: String,
    pub id: Option<String>,
    pub token_type: Option<String>,
    /// Epoch milliseconds, as a string.
    pub issued_at: Option<String>,
    pub signature: Option<String>,
    pub scope: Option<String>,
}

/// `POST /services/oauth2/token` error body (HTTP 400).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

/// A record's `attributes`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Attributes {
    #[serde(rename = "type")]
    pub sobject_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A record as the REST API returns it: `attributes` plus fields.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default)]
pub struct Record {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Record {
    /// A field value (`None` when absent; JSON `null` is `Some(Value::Null)`).
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    /// A string field.
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// The record's `Id`.
    pub fn id(&self) -> Option<&str> {
        self.get_str("Id")
    }

    /// The sObject type from `attributes`.
    pub fn sobject_type(&self) -> Option<&str> {
        self.attributes.as_ref().map(|a| a.sobject_type.as_str())
    }
}

/// One page of `GET /query` or `/queryAll`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse<T> {
    pub total_size: u64,
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    pub records: Vec<T>,
}

/// Body of a create (201), of an upsert (200/201, with `created`), and the per-record result
/// of sObject Collections.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct SaveResult {
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
}

/// A Collections result, tied back to its input.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordResult {
    /// Position of the record (or id) in the caller's input.
    pub index: usize,
    pub id: Option<String>,
    pub success: bool,
    /// Per-record errors (`statusCode`, message, fields).
    pub errors: Vec<ErrorDetail>,
    pub created: Option<bool>,
}

impl RecordResult {
    /// Whether Salesforce refused this record as a converted Lead
    /// ([`crate::Error::is_converted_lead`]).
    pub fn is_converted_lead(&self) -> bool {
        self.errors
            .iter()
            .any(crate::error::is_converted_lead_detail)
    }
}

/// Outcome of an upsert by external id.
#[derive(Clone, Debug, PartialEq)]
pub enum UpsertOutcome {
    /// HTTP 201: a record was created.
    Created(String),
    /// HTTP 200 (or 204 before v46): the matching record was updated. The id is `None` only
    /// for pre-v46 APIs, which answer without a body.
    Updated(Option<String>),
    /// HTTP 300: several records have this external id; their URLs.
    MultipleMatches(Vec<String>),
}

/// Outcome of [`crate::SalesforceClient::update_if_unmodified`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConditionalUpdate {
    /// HTTP 204: the record was unchanged since the given time and the change was applied.
    /// `date` is the response's `Date` header (second precision), when it was present and a
    /// valid HTTP date. A 204 does not carry the record's new `LastModifiedDate`; Salesforce
    /// saved the record before it answered, so `date` is at or after that save (in the same
    /// second or later) and serves as the condition of the next conditional update.
    Applied { date: Option<time::OffsetDateTime> },
    /// HTTP 412 Precondition Failed: the record's `LastModifiedDate` is after the given time
    /// (compared at second precision), and nothing was written.
    Modified,
}

/// A record to create through Collections.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRecord {
    pub sobject: String,
    pub fields: Map<String, Value>,
}

impl NewRecord {
    pub fn new(sobject: impl Into<String>, fields: Map<String, Value>) -> Self {
        NewRecord {
            sobject: sobject.into(),
            fields,
        }
    }
}

/// A record change to apply through Collections.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordUpdate {
    pub sobject: String,
    pub id: String,
    pub fields: Map<String, Value>,
}

impl RecordUpdate {
    pub fn new(
        sobject: impl Into<String>,
        id: impl Into<String>,
        fields: Map<String, Value>,
    ) -> Self {
        RecordUpdate {
            sobject: sobject.into(),
            id: id.into(),
            fields,
        }
    }
}

/// A describe field `type`. Unknown types are kept verbatim.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FieldType {
    Id,
    Reference,
    Boolean,
    String,
    Textarea,
    Picklist,
    Multipicklist,
    Combobox,
    Date,
    Datetime,
    Time,
    Currency,
    Double,
    Percent,
    Int,
    Long,
    Email,
    Phone,
    Url,
    Base64,
    Address,
    Location,
    EncryptedString,
    AnyType,
    Other(std::string::String),
}

impl From<std::string::String> for FieldType {
    fn from(s: std::string::String) -> Self {
        match s.as_str() {
            "id" => FieldType::Id,
            "reference" => FieldType::Reference,
            "boolean" => FieldType::Boolean,
            "string" => FieldType::String,
            "textarea" => FieldType::Textarea,
            "picklist" => FieldType::Picklist,
            "multipicklist" => FieldType::Multipicklist,
            "combobox" => FieldType::Combobox,
            "date" => FieldType::Date,
            "datetime" => FieldType::Datetime,
            "time" => FieldType::Time,
            "currency" => FieldType::Currency,
            "double" => FieldType::Double,
            "percent" => FieldType::Percent,
            "int" => FieldType::Int,
            "long" => FieldType::Long,
            "email" => FieldType::Email,
            "phone" => FieldType::Phone,
            "url" => FieldType::Url,
            "base64" => FieldType::Base64,
            "address" => FieldType::Address,
            "location" => FieldType::Location,
            "encryptedstring" => FieldType::EncryptedString,
            "anyType" => FieldType::AnyType,
            _ => FieldType::Other(s),
        }
    }
}

impl From<FieldType> for std::string::String {
    fn from(t: FieldType) -> Self {
        t.as_str().to_string()
    }
}

impl FieldType {
    pub fn as_str(&self) -> &str {
        match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Picklist => "picklist",
            FieldType::Multipicklist => "multipicklist",
            FieldType::Combobox => "combobox",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Time => "time",
            FieldType::Currency => "currency",
            FieldType::Double => "double",
            FieldType::Percent => "percent",
            FieldType::Int => "int",
            FieldType::Long => "long",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Base64 => "base64",
            FieldType::Address => "address",
            FieldType::Location => "location",
            FieldType::EncryptedString => "encryptedstring",
            FieldType::AnyType => "anyType",
            FieldType::Other(s) => s,
        }
    }
}

/// One picklist entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    pub value: String,
    pub label: Option<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub default_value: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<String>,
}

/// One field of a describe.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub soap_type: Option<String>,
    #[serde(default)]
    pub length: u32,
    #[serde(default)]
    pub byte_length: u32,
    #[serde(default)]
    pub precision: u32,
    #[serde(default)]
    pub scale: u32,
    #[serde(default)]
    pub digits: u32,
    #[serde(default)]
    pub nillable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub defaulted_on_create: bool,
    #[serde(default)]
    pub calculated: bool,
    #[serde(default)]
    pub auto_number: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub id_lookup: bool,
    #[serde(default)]
    pub name_field: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub filterable: bool,
    #[serde(default)]
    pub sortable: bool,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub picklist_values: Vec<PicklistValue>,
    #[serde(default)]
    pub restricted_picklist: bool,
    #[serde(default)]
    pub dependent_picklist: bool,
    pub controller_name: Option<String>,
    pub default_value: Option<Value>,
    #[serde(default)]
    pub html_formatted: bool,
    #[serde(default)]
    pub deprecated_and_hidden: bool,
}

impl FieldDescribe {
    /// Required when creating a record: `createable && !nillable && !defaultedOnCreate`.
    pub fn is_required_on_create(&self) -> bool {
        self.createable && !self.nillable && !self.defaulted_on_create
    }

    /// The active picklist values.
    pub fn active_picklist_values(&self) -> impl Iterator<Item = &str> {
        self.picklist_values
            .iter()
            .filter(|p| p.active)
            .map(|p| p.value.as_str())
    }
}

/// `GET /sobjects/{Obj}/describe`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SObjectDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    pub label_plural: Option<String>,
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub fields: Vec<FieldDescribe>,
    #[serde(default)]
    pub record_type_infos: Vec<Value>,
    #[serde(default)]
    pub urls: BTreeMap<String, String>,
}

impl SObjectDescribe {
    /// A field by name, case-insensitively (API names are case-insensitive).
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// One entry of the global describe.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalSObject {
    pub name: String,
    #[serde(default)]
    pub label: String,
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub urls: BTreeMap<String, String>,
}

/// `GET /sobjects/`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalDescribe {
    pub encoding: Option<String>,
    pub max_batch_size: Option<u32>,
    pub sobjects: Vec<GlobalSObject>,
}

/// One entry of `GET /limits`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct LimitValue {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
}

/// `GET /limits`: limit name → max and remaining.
pub type Limits = BTreeMap<String, LimitValue>;

/// `per-app-api-usage=17/250(appName=sample-app)` of `Sforce-Limit-Info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerAppUsage {
    pub used: u64,
    pub max: u64,
    pub app_name: Option<String>,
}

/// The `Sforce-Limit-Info` response header: `api-usage=18/5000[; per-app-api-usage=…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitInfo {
    pub used: u64,
    pub max: u64,
    pub per_app: Option<PerAppUsage>,
}

/// The org's API usage over the rolling 24 hours, from `api-usage=used/max` of
/// `Sforce-Limit-Info` (reference §5; realtime-and-limits.md §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiUsage {
    /// Calls made by the whole org (every integration, not only crmmap).
    pub used: u64,
    /// The org's allocation.
    pub max: u64,
}

impl ApiUsage {
    /// Usage in percent of the allocation (100 when `max` is 0).
    pub fn percent(&self) -> f64 {
        if self.max == 0 {
            100.0
        } else {
            self.used as f64 * 100.0 / self.max as f64
        }
    }

    /// Whether usage is above `100 - headroom_percent` percent of the allocation, the share
    /// crmmap leaves to the org's other integrations. A `max` of 0 says nothing (never above).
    pub fn above_headroom(&self, headroom_percent: u8) -> bool {
        let allowed = 100 - u128::from(headroom_percent.min(100));
        self.max > 0 && u128::from(self.used) * 100 > allowed * u128::from(self.max)
    }

    /// Finds `api-usage=N/M` in a text (a log line, an error message); the newest format
    /// crmmap writes is [`ApiUsage`]'s `Display`.
    pub fn find_in(text: &str) -> Option<ApiUsage> {
        let (_, rest) = text.split_once("api-usage=")?;
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '/'))
            .unwrap_or(rest.len());
        let (used, max) = parse_ratio(rest.get(..end)?)?;
        Some(ApiUsage { used, max })
    }
}

impl std::fmt::Display for ApiUsage {
    /// `api-usage=9500/10000 (95.0 %)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "api-usage={}/{} ({:.1} %)",
            self.used,
            self.max,
            self.percent()
        )
    }
}

fn parse_ratio(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.trim().split_once('/')?;
    let b = b.split('(').next()?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

impl LimitInfo {
    /// Parses the header value; `None` when it has no `api-usage`.
    pub fn parse(header: &str) -> Option<LimitInfo> {
        let mut usage = None;
        let mut per_app = None;
        for part in header.split([';', ',']) {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            // Unknown entries (`api-bursts=1/750`, anything newer) and malformed values are
            // skipped; the first well-formed `api-usage` wins.
            let k = k.trim().to_ascii_lowercase();
            match k.as_str() {
                "api-usage" => usage = usage.or_else(|| parse_ratio(v)),
                "per-app-api-usage" => {
                    if let Some((used, max)) = parse_ratio(v) {
                        let app_name = v
                            .split_once("(appName=")
                            .map(|(_, rest)| rest.trim_end().trim_end_matches(')').to_string());
                        per_app = Some(PerAppUsage {
                            used,
                            max,
                            app_name,
                        });
                    }
                }
                _ => {}
            }
        }
        // `appName=` inside parentheses contains '=', which the split above tolerates.
        usage.map(|(used, max)| LimitInfo { used, max, per_app })
    }

    /// Calls left today.
    pub fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }

    /// The org's usage (`api-usage`).
    pub fn usage(&self) -> ApiUsage {
        ApiUsage {
            used: self.used,
            max: self.max,
        }
    }
}

/// One subresponse of `POST /composite`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubresponse {
    pub body: Value,
    #[serde(default)]
    pub http_headers: BTreeMap<String, String>,
    pub http_status_code: u16,
    pub reference_id: String,
}

/// `POST /composite` response.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CompositeResponse {
    pub composite_response: Vec<CompositeSubresponse>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_info_header() {
        assert_eq!(
            LimitInfo::parse("api-usage=18/5000"),
            Some(LimitInfo {
                used: 18,
                max: 5000,
                per_app: None
            })
        );
        let li =
            LimitInfo::parse("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)")
                .unwrap();
        assert_eq!(li.used, 25);
        assert_eq!(
            li.per_app,
            Some(PerAppUsage {
                used: 17,
                max: 250,
                app_name: Some("sample-app".into())
            })
        );
        assert_eq!(LimitInfo::parse("nonsense"), None);
    }

    #[test]
    fn limit_info_tolerates_other_entries_and_junk() {
        let usage = |h: &str| LimitInfo::parse(h).map(|l| (l.used, l.max));
        assert_eq!(
            usage("api-bursts=1/750, api-usage=10018/100000"),
            Some((10018, 100000))
        );
        assert_eq!(
            usage("per-app-api-usage=17/250(appName=a,b); api-usage=3/15000; api-bursts=1/750"),
            Some((3, 15000))
        );
        assert_eq!(usage(" API-Usage = 5 / 10 "), Some((5, 10)));
        assert_eq!(usage("api-usage=abc/10; api-usage=7/10"), Some((7, 10)));
        for junk in [
            "",
            "api-usage",
            "api-usage=",
            "api-usage=5",
            "api-usage=-1/10",
            "api-usage=1/2/3",
            "per-app-api-usage=17/250",
            "api-usage=99999999999999999999/1",
            "=;,=/",
        ] {
            assert_eq!(usage(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn api_usage_headroom_and_text() {
        let u = |used, max| ApiUsage { used, max };
        assert!(
            !u(9000, 10000).above_headroom(10),
            "exactly 90 % is not above"
        );
        assert!(u(9001, 10000).above_headroom(10));
        assert!(u(9500, 10000).above_headroom(10));
        assert!(!u(9500, 10000).above_headroom(0));
        assert!(u(10001, 10000).above_headroom(0));
        assert!(!u(5, 0).above_headroom(10), "no allocation known");
        assert!(!u(u64::MAX, u64::MAX).above_headroom(0), "no overflow");
        assert_eq!(u(9500, 10000).to_string(), "api-usage=9500/10000 (95.0 %)");
        assert_eq!(
            ApiUsage::find_in("stopped: api-usage=9500/10000 (95.0 %)"),
            Some(u(9500, 10000))
        );
        assert_eq!(ApiUsage::find_in("api-usage=x"), None);
        assert_eq!(ApiUsage::find_in("nothing here"), None);
    }
}
