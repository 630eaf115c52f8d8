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

#[tokio::test]
async fn inline_arguments_and_single_column_mutations_work() {
    let emu = emulator(options()).await;
    let create = json!({ "query": "mutation { a: create_item(board_id: 9378000505, item_name: \"Inline\", column_values: \"{\\\"text_mkry13cw\\\": \\\"Ada\\\"}\") { id name } }" }).to_string();
    let (status, _, body) = raw(&emu, Some(TOKEN), &create).await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["a"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["a"]["name"], "Inline");

    let query = format!(
        "mutation {{
            s: change_simple_column_value(board_id: \"9378000505\", item_id: {id}, column_id: \"color_mksj2adq\", value: \"Qualified\") {{ id }}
            c: change_column_value(board_id: 9378000505, item_id: \"{id}\", column_id: \"dropdown_mkstb9d4\", value: \"{{\\\"labels\\\":[\\\"Texas\\\"]}}\") {{ id }}
            r: change_simple_column_value(board_id: 9378000505, item_id: {id}, column_id: \"name\", value: \"Renamed\") {{ id }}
        }}"
    );
    let (status, _, body) = raw(&emu, Some(TOKEN), &json!({ "query": query }).to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");

    let read = format!(
        "query {{ items(ids: [{id}]) {{ name column_values(ids: [\"color_mksj2adq\", \"dropdown_mkstb9d4\", \"text_mkry13cw\"]) {{ id text value ... on StatusValue {{ label }} }} }} }}"
    );
    let (_, _, body) = raw(&emu, Some(TOKEN), &json!({ "query": read }).to_string()).await;
    let item = &body["data"]["items"][0];
    assert_eq!(item["name"], "Renamed", "{body}");
    let by_id = |id: &str| {
        item["column_values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("color_mksj2adq")["label"], "Qualified");
    assert_eq!(by_id("dropdown_mkstb9d4")["text"], "Texas");
    assert_eq!(
        by_id("text_mkry13cw")["value"],
        "\"Ada\"",
        "the value is a JSON string holding JSON"
    );
    let dropdown: Value =
        serde_json::from_str(by_id("dropdown_mkstb9d4")["value"].as_str().unwrap()).unwrap();
    assert!(
        dropdown["changed_at"].is_string() && dropdown["ids"].is_array(),
        "{dropdown}"
    );
}

#[tokio::test]
async fn board_relation_value_is_served_only_before_2025_04() {
    let emu = emulator(options()).await;
    let send = |version: &'static str, query: String| {
        let url = emu.base_url();
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("Authorization", TOKEN)
                .header("API-Version", version)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    let account = send(
        "2026-10",
        "mutation { create_item(board_id: 9378000326, item_name: \"Acme\") { id } }".into(),
    )
    .await;
    let account_id = account["data"]["create_item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = format!(
        "mutation {{ create_item(board_id: 9378000036, item_name: \"Deal\", column_values: \"{{\\\"board_relation_mks9nfzc\\\": {{\\\"item_ids\\\": [{account_id}]}}}}\") {{ id }} }}"
    );
    let deal = send("2026-10", create).await;
    let deal_id = deal["data"]["create_item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = format!(
        "query {{ items(ids: [{deal_id}]) {{ column_values(ids: [\"board_relation_mks9nfzc\"]) {{ value ... on BoardRelationValue {{ linked_item_ids }} }} }} }}"
    );
    let current = send("2026-10", read.clone()).await;
    let old = send("2025-01", read).await;
    let current = &current["data"]["items"][0]["column_values"][0];
    let old = &old["data"]["items"][0]["column_values"][0];
    assert_eq!(current["value"], Value::Null);
    assert_eq!(current["linked_item_ids"], json!([account_id]));
    let legacy: Value = serde_json::from_str(old["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        legacy["linkedPulseIds"][0]["linkedPulseId"].to_string(),
        account_id
    );
}

#[tokio::test]
async fn page_limits_above_500_are_rejected() {
    let emu = emulator(options()).await;
    let query = json!({ "query": "query { boards(ids: [9378000505]) { items_page(limit: 501) { cursor } } }" }).to_string();
    let (status, _, body) = raw(&emu, Some(TOKEN), &query).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "InvalidArgumentException",
        "{body}"
    );
    let ok = json!({ "query": "query { boards(ids: [9378000505]) { items_page(limit: 500) { cursor items { id } } } }" }).to_string();
    let (_, _, body) = raw(&emu, Some(TOKEN), &ok).await;
    assert_eq!(
        body["data"]["boards"][0]["items_page"]["cursor"],
        Value::Null,
        "{body}"
    );
}
