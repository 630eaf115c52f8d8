//! The recorded payloads in `tests/fixtures/` parse into the client's types.

use crmmap_salesforce::types::{CompositeResponse, OAuthErrorBody, TokenResponse};
use crmmap_salesforce::{
    ErrorDetail, FieldType, QueryResponse, Record, SObjectDescribe, SaveResult,
};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn token_success() {
    let t: TokenResponse = serde_json::from_str(&fixture("01-oauth-token-success.json")).unwrap();
    assert_eq!(t.instance_url, "https://na1.salesforce.com");
    assert!(t.access_token.expose().starts_with("00Dx0000000BV7z!"));
    assert_eq!(t.issued_at.as_deref(), Some("1278448832702"));
    assert!(t.token_type.is_none() && t.scope.is_none());
    assert!(
        !format!("{t:?}").contains("AR8AQ"),
        "the token is redacted in Debug"
    );
}

#[test]
fn token_error() {
    let e: OAuthErrorBody =
        serde_json::from_str(&fixture("02-oauth-token-error-invalid-grant.json")).unwrap();
    assert_eq!(e.error, "invalid_grant");
    assert_eq!(
        e.error_description,
        "authentication failure - Invalid Password"
    );
}

#[test]
fn session_error_array() {
    let e: Vec<ErrorDetail> =
        serde_json::from_str(&fixture("03-error-401-invalid-session-id.json")).unwrap();
    assert_eq!(
        e,
        [ErrorDetail {
            error_code: "INVALID_SESSION_ID".into(),
            message: "Session expired or invalid".into(),
            fields: vec![]
        }]
    );
}

#[test]
fn query_page() {
    let p: QueryResponse<Record> =
        serde_json::from_str(&fixture("04-query-first-page-with-nextRecordsUrl.json")).unwrap();
    assert_eq!(p.total_size, 2);
    assert!(!p.done);
    assert_eq!(
        p.next_records_url.as_deref(),
        Some("/services/data/v26.0/query/01gD")
    );
    assert_eq!(p.records[0].sobject_type(), Some("Whizbang"));
    assert_eq!(p.records[0].get_str("Text_Label"), Some("First Page"));
}

#[test]
fn create_result() {
    let r: SaveResult = serde_json::from_str(&fixture("05-create-success-201.json")).unwrap();
    assert_eq!(
        r,
        SaveResult {
            id: Some("some_id".into()),
            success: true,
            errors: vec![],
            created: None
        }
    );
}

#[test]
fn collections_results() {
    let r: Vec<SaveResult> =
        serde_json::from_str(&fixture("06-collections-partial-failure.json")).unwrap();
    assert!(r[0].success);
    assert_eq!(r[1].id, None);
    assert_eq!(
        r[1].errors[0].error_code, "MALFORMED_ID",
        "statusCode maps to error_code"
    );
    assert_eq!(r[1].errors[0].message, "malformed id 001RM000003oLrB000");
}

#[test]
fn composite_response() {
    let r: CompositeResponse =
        serde_json::from_str(&fixture("07-composite-response.json")).unwrap();
    assert_eq!(r.composite_response.len(), 5);
    assert_eq!(r.composite_response[0].http_status_code, 201);
    assert_eq!(r.composite_response[4].http_status_code, 304);
    assert!(r.composite_response[4].body.is_null());
    let created: SaveResult = serde_json::from_value(r.composite_response[0].body.clone()).unwrap();
    assert_eq!(created.id.as_deref(), Some("001R00000033JNuIAM"));
}

#[test]
fn describe() {
    let d: SObjectDescribe =
        serde_json::from_str(&fixture("08-describe-custom-object.json")).unwrap();
    assert_eq!(d.name, "Whizbang");
    assert_eq!(d.fields.len(), 30);
    assert!(
        d.fields
            .iter()
            .all(|f| !matches!(f.field_type, FieldType::Other(_))),
        "all 15 types are known"
    );
    let owner = d.field("OwnerId").unwrap();
    assert_eq!(owner.field_type, FieldType::Reference);
    assert_eq!(owner.reference_to, ["Group", "User"]);
    let pick = d.field("Picklist_Field").unwrap();
    assert!(!pick.picklist_values.is_empty());
    let multi = d.field("Picklist_Multiselect_Field").unwrap();
    assert_eq!(multi.field_type, FieldType::Multipicklist);
    let dependent = d.field("Dependent_Picklist_Field").unwrap();
    assert!(dependent.dependent_picklist);
    assert!(
        dependent
            .picklist_values
            .iter()
            .any(|p| p.valid_for.is_some())
    );
    // Required-on-create rule: createable && !nillable && !defaultedOnCreate.
    let required: Vec<&str> = d
        .fields
        .iter()
        .filter(|f| f.is_required_on_create())
        .map(|f| f.name.as_str())
        .collect();
    assert!(
        !required.contains(&"Checkbox_Field"),
        "booleans default to false"
    );
    // Serde round trip, as a schema snapshot would be saved.
    let again: SObjectDescribe = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(again, d);
}
