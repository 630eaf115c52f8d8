//! The emulator's HTTP and GraphQL protocol, spoken raw.

use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn removed_boards_items_form_is_rejected_and_not_executed() {
    let emu = emulator(options()).await;
    let body =
        json!({ "query": "query { boards(ids: [9378000505]) { items { id } } }" }).to_string();
    let (status, _, body) = raw(&emu, Some(TOKEN), &body).await;
    assert_eq!(status, 200);
    assert!(body.get("data").is_none(), "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "undefinedField", "{body}");
    assert_eq!(error["extensions"]["typeName"], "Board");
    assert_eq!(error["extensions"]["fieldName"], "items");
    assert!(error["locations"][0]["line"].is_number());
    assert!(body["extensions"]["request_id"].is_string());
    let counters = emu.state().counters();
    assert_eq!((counters.invalid_documents, counters.executed), (1, 0));
}

#[tokio::test]
async fn syntax_errors_are_parse_errors() {
    let emu = emulator(options()).await;
    let body = json!({ "query": "query { boards(ids: [1] { id } }" }).to_string();
    let (status, _, body) = raw(&emu, Some(TOKEN), &body).await;
    assert_eq!(status, 200);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Parse error on"), "{message}");
}

#[tokio::test]
async fn authorization_is_the_raw_token() {
    let emu = emulator(options()).await;
    let body = json!({ "query": "query { complexity { before } }" }).to_string();
    for token in [None, Some("wrong"), Some(&*format!("Bearer {TOKEN}"))] {
        let (status, _, body) = raw(&emu, token, &body).await;
        assert_eq!(status, 401, "{token:?}");
        assert!(body["extensions"]["request_id"].is_string());
    }
    let (status, _, body) = raw(&emu, Some(TOKEN), &body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["complexity"]["before"], 10_000_000);
}

#[tokio::test]
async fn malformed_bodies_are_400_json_parse_exceptions() {
    let emu = emulator(options()).await;
    for body in [
        "not json".to_owned(),
        json!({ "variables": {} }).to_string(),
        json!({ "query": "query($id: ID!) { items(ids: [$id]) { id } }", "variables": "{\"id\": 1}" }).to_string(),
    ] {
        let (status, _, response) = raw(&emu, Some(TOKEN), &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(response["errors"][0]["extensions"]["code"], "JsonParseException");
    }
}

#[tokio::test]
async fn api_version_is_echoed_and_malformed_versions_rejected() {
    let emu = emulator(options()).await;
    let send = |version: &'static str| {
        let url = emu.base_url();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("Authorization", TOKEN)
                .header("API-Version", version)
                .json(&json!({ "query": "query { complexity { query } }" }))
                .send()
                .await
                .unwrap()
        }
    };
    let ok = send("2025-10").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["API-Version"], "2025-10");
    assert!(ok.headers().contains_key("RateLimit"));
    assert!(
        ok.headers()["RateLimit-Policy"]
            .to_str()
            .unwrap()
            .contains("complexityMinute")
    );
    let bad = send("2023").await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "InvalidVersionException"
    );
}

#[tokio::test]
async fn only_post_v2_is_served() {
    let emu = emulator(options()).await;
    let get = reqwest::Client::new()
        .get(emu.base_url())
        .header("Authorization", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let other = reqwest::Client::new()
        .post(emu.base_url().replace("/v2", "/v1"))
        .header("Authorization", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn ids_are_accepted_as_numbers_or_strings_and_returned_as_strings() {
    let emu = emulator(options()).await;
    let query =
        "query($a: ID!, $b: ID!) { x: boards(ids: [$a]) { id name } y: boards(ids: [$b]) { id } }";
    let body = json!({ "query": query, "variables": { "a": 9378000505u64, "b": "9378000326" } })
        .to_string();
    let (status, _, body) = raw(&emu, Some(TOKEN), &body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["x"][0]["id"], "9378000505");
    assert_eq!(body["data"]["x"][0]["name"], "Leads");
    assert_eq!(body["data"]["y"][0]["id"], "9378000326");
}

#[tokio::test]
async fn valid_but_unsupported_fields_get_a_clear_error() {
    let emu = emulator(options()).await;
    let body = json!({ "query": "query { me { id } }" }).to_string();
    let (status, _, body) = raw(&emu, Some(TOKEN), &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UnsupportedByEmulator",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`me`")
    );
    assert_eq!(body["errors"][0]["path"][0], "me");
}

#[tokio::test]
async fn queries_over_the_single_query_limit_are_complexity_exceptions() {
    let emu = emulator(options()).await;
    let query = "query { boards(limit: 10000) { items_page(limit: 500) { items { column_values { id } } } } }";
    let (status, _, body) = raw(&emu, Some(TOKEN), &json!({ "query": query }).to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "ComplexityException",
        "{body}"
    );
    assert_eq!(emu.state().counters().executed, 0);
}

#[tokio::test]
async fn complexity_is_consistent_across_requests() {
    let emu = emulator(options()).await;
    let query = json!({ "query": "query { complexity { before query after reset_in_x_seconds } boards(ids: [9378000505]) { id columns { id } } }" }).to_string();
    let (_, _, first) = raw(&emu, Some(TOKEN), &query).await;
    let (_, _, second) = raw(&emu, Some(TOKEN), &query).await;
    let (a, b) = (&first["data"]["complexity"], &second["data"]["complexity"]);
    let n = |v: &Value| v.as_u64().unwrap();
    assert!(n(&a["query"]) > 0);
    assert_eq!(n(&a["before"]) - n(&a["query"]), n(&a["after"]));
    assert_eq!(n(&b["before"]), n(&a["after"]));
    assert!(n(&a["reset_in_x_seconds"]) <= 60);
}
