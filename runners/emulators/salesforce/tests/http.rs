//! The emulator over raw HTTP: response shapes (checked against the recorded payloads the
//! client's tests keep in `runners/clients/salesforce/tests/fixtures/`), SOQL semantics,
//! limits, versions, faults and the sample data.

#[path = "http/cdc.rs"]
mod cdc;
#[path = "http/relay.rs"]
mod relay;

use std::collections::BTreeSet;

use crmmap_emu_salesforce::{Credentials, EmulatorOptions, EndpointKind, RunningEmulator, start};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../clients/salesforce/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

struct Session {
    emu: RunningEmulator,
    http: Client,
    token: String,
}

impl Session {
    async fn new(opts: EmulatorOptions) -> Session {
        let emu = start(opts).await.unwrap();
        let http = Client::new();
        let c = Credentials::default();
        let resp = http
            .post(format!("{}/services/oauth2/token", emu.base_url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_string();
        Session { emu, http, token }
    }

    async fn default() -> Session {
        Session::new(EmulatorOptions::default()).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}/services/data/v62.0{path}", self.emu.base_url())
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut rb = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = self.call(Method::GET, path, None).await;
        (s, b)
    }

    async fn query(&self, q: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(self.url("/query"))
            .query(&[("q", q)])
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json().await.unwrap())
    }

    async fn names(&self, q: &str) -> Vec<String> {
        let (s, b) = self.query(q).await;
        assert_eq!(s, 200, "{q}: {b}");
        b["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Name"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

// ---------------------------------------------------------------- shapes vs recorded payloads

#[tokio::test]
async fn token_bodies_match_recorded_shapes() {
    let emu = start(EmulatorOptions::default()).await.unwrap();
    let http = Client::new();
    let c = Credentials::default();
    let url = format!("{}/services/oauth2/token", emu.base_url());
    let ok: Value = http
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("username", &c.username),
            ("password", &c.password),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded = fixture("01-oauth-token-success.json");
    assert!(keys(&recorded).is_subset(&keys(&ok)), "{ok}");
    assert_eq!(ok["token_type"], "Bearer");
    assert!(ok["scope"].is_string());
    let token = ok["access_token"].as_str().unwrap();
    assert!(
        token.starts_with("00D") && token.as_bytes()[15] == b'!',
        "{token}"
    );
    assert!(ok["issued_at"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(ok["instance_url"], emu.base_url());

    let resp = http
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("username", &c.username),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(
        keys(&err),
        keys(&fixture("02-oauth-token-error-invalid-grant.json"))
    );
    assert_eq!(err["error"], "invalid_grant");

    for (form, error) in [
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "nope"),
                ("client_secret", "x"),
            ],
            "invalid_client_id",
        ),
        (vec![("grant_type", "magic")], "unsupported_grant_type"),
        (vec![("client_id", "x")], "invalid_request"),
        (
            vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", "not.a.jwt"),
            ],
            "invalid_grant",
        ),
    ] {
        let resp = http.post(&url).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
    }
}

#[tokio::test]
async fn session_errors_match_recorded_body() {
    let s = Session::default().await;
    let resp = s
        .http
        .get(s.url("/limits"))
        .bearer_auth("00D000000000000!bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, fixture("03-error-401-invalid-session-id.json"));
    s.emu.expire_all_tokens();
    let (status, body) = s.get("/limits").await;
    assert_eq!(status, 401);
    assert_eq!(body, fixture("03-error-401-invalid-session-id.json"));
}

#[tokio::test]
async fn query_page_matches_recorded_shape() {
    let s = Session::new(EmulatorOptions {
        query_page_size: 2,
        ..Default::default()
    })
    .await;
    let (status, page) = s.query("SELECT Id, Name FROM Lead ORDER BY Name").await;
    assert_eq!(status, 200);
    let recorded = fixture("04-query-first-page-with-nextRecordsUrl.json");
    assert_eq!(keys(&page), keys(&recorded));
    assert_eq!(
        keys(&page["records"][0]["attributes"]),
        keys(&recorded["records"][0]["attributes"])
    );
    assert_eq!(page["totalSize"], 5);
    assert_eq!(page["done"], false);
    let next = page["nextRecordsUrl"].as_str().unwrap();
    assert!(
        next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-2"),
        "{next}"
    );
    let url = page["records"][0]["attributes"]["url"].as_str().unwrap();
    assert!(url.starts_with("/services/data/v62.0/sobjects/Lead/00Q"));
    // Following the locator.
    let resp = s
        .http
        .get(format!("{}{next}", s.emu.base_url()))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let page2: Value = resp.json().await.unwrap();
    assert_eq!(page2["records"].as_array().unwrap().len(), 2);
    let resp = s
        .http
        .get(format!(
            "{}/services/data/v62.0/query/01gBOGUS-2",
            s.emu.base_url()
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn create_and_collections_match_recorded_shapes() {
    let s = Session::default().await;
    let (status, headers, body) = s
        .call(
            Method::POST,
            "/sobjects/Account/",
            Some(json!({"Name": "Shape"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(keys(&body), keys(&fixture("05-create-success-201.json")));
    assert!(headers.get("location").is_some());
    let id = body["id"].as_str().unwrap().to_string();
    let (status, _, body) = s
        .call(
            Method::DELETE,
            &format!("/composite/sobjects?ids={id},001RM000003oLrB000&allOrNone=false"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let recorded = fixture("06-collections-partial-failure.json");
    assert_eq!(keys(&body[0]), keys(&recorded[0]));
    assert_eq!(
        keys(&body[1]),
        keys(&recorded[1]),
        "a failed item has no id"
    );
    assert_eq!(
        body[1], recorded[1],
        "same code and message as the recorded failure"
    );
    // Over 200 records: 400 for the whole request.
    let records: Vec<Value> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("N{i}")}))
        .collect();
    let (status, _, body) = s
        .call(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"records": records})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body[0]["errorCode"], "EXCEEDED_ID_LIMIT");
}

#[tokio::test]
async fn describe_has_the_recorded_attributes() {
    let s = Session::default().await;
    let recorded = fixture("08-describe-custom-object.json");
    let recorded_field_keys = keys(&recorded["fields"][0]);
    for object in ["Lead", "Account", "Contact", "Opportunity"] {
        let (status, d) = s.get(&format!("/sobjects/{object}/describe")).await;
        assert_eq!(status, 200);
        assert!(
            keys(&recorded).is_subset(&keys(&d)),
            "{object}: {:?}",
            keys(&recorded).difference(&keys(&d)).collect::<Vec<_>>()
        );
        for f in d["fields"].as_array().unwrap() {
            let have = keys(f);
            let missing: Vec<_> = recorded_field_keys.difference(&have).collect();
            assert!(missing.is_empty(), "{object}.{}: {missing:?}", f["name"]);
        }
    }
    let (status, g) = s.get("/sobjects/").await;
    assert_eq!(status, 200);
    assert_eq!(g["sobjects"].as_array().unwrap().len(), 4);
    let (status, body) = s.get("/sobjects/Nope__c/describe").await;
    assert_eq!(
        (status, body[0]["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
}

/// Every field the seed mappings name exists in the sample describes, with a sensible type.
#[tokio::test]
async fn describes_cover_the_seed_mappings() {
    let s = Session::default().await;
    let path = format!(
        "{}/../../../tests/fixtures/seed-mappings.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let seed: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (object, spec) in seed["objects"].as_table().unwrap() {
        let (_, d) = s.get(&format!("/sobjects/{object}/describe")).await;
        let fields: std::collections::HashMap<String, Value> = d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].as_str().unwrap().to_string(), f.clone()))
            .collect();
        let mut named: Vec<String> = spec["select_fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        for (_, v) in spec
            .get("to_salesforce")
            .and_then(|t| t.as_table())
            .into_iter()
            .flatten()
        {
            named.push(v[0].as_str().unwrap().to_string());
        }
        for (_, v) in spec
            .get("to_monday")
            .and_then(|t| t.as_table())
            .into_iter()
            .flatten()
        {
            named.push(v.as_str().unwrap().to_string());
        }
        for (_, v) in spec
            .get("links_to_salesforce")
            .and_then(|t| t.as_table())
            .into_iter()
            .flatten()
        {
            let (target, field) = (v[0].as_str().unwrap(), v[1].as_str().unwrap());
            let f = fields
                .get(field)
                .unwrap_or_else(|| panic!("{object}.{field} missing"));
            assert_eq!(f["type"], "reference", "{object}.{field}");
            assert_eq!(f["referenceTo"], json!([target]), "{object}.{field}");
        }
        for name in named {
            let f = fields
                .get(&name)
                .unwrap_or_else(|| panic!("{object}.{name} missing from the describe"));
            let t = f["type"].as_str().unwrap();
            let expect = match name.as_str() {
                "Id" => Some("id"),
                "CreatedDate" | "LastModifiedDate" => Some("datetime"),
                "CloseDate" | "Birthdate" | "LastActivityDate" => Some("date"),
                "Amount" => Some("currency"),
                "IsConverted" => Some("boolean"),
                "Email" => Some("email"),
                "Phone" => Some("phone"),
                "Website" => Some("url"),
                n if n.ends_with("Id") => Some("reference"),
                _ => None,
            };
            if let Some(e) = expect {
                assert_eq!(t, e, "{object}.{name}");
            }
            if matches!(name.as_str(), "CreatedDate" | "LastModifiedDate") {
                assert_eq!(
                    (f["createable"].as_bool(), f["updateable"].as_bool()),
                    (Some(false), Some(false))
                );
            }
        }
    }
    let (_, lead) = s.get("/sobjects/Lead/describe").await;
    let name = lead["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Name")
        .unwrap();
    assert_eq!(
        (name["createable"].as_bool(), name["updateable"].as_bool()),
        (Some(false), Some(false)),
        "compound, read-only"
    );
    let cbn = lead["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Capacity_Building_Needs__c")
        .unwrap();
    assert_eq!(cbn["type"], "multipicklist");
    assert_eq!(cbn["restrictedPicklist"], true);
}

// ---------------------------------------------------------------- versions, limits, faults

#[tokio::test]
async fn versions_and_limit_header() {
    let s = Session::default().await;
    let resp = s
        .http
        .get(format!("{}/services/data/", s.emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers().get("sforce-limit-info").is_none(),
        "not on GET /services/data/"
    );
    let list: Value = resp.json().await.unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|v| v["version"] == "62.0")
    );
    let (_, headers, _) = s.call(Method::GET, "/limits", None).await;
    assert_eq!(headers["sforce-limit-info"], "api-usage=1/15000");
    for (version, status) in [
        ("v30.0", 410),
        ("v31.0", 200),
        ("v66.0", 200),
        ("v99.0", 404),
        ("62", 404),
    ] {
        let resp = s
            .http
            .get(format!(
                "{}/services/data/{version}/limits",
                s.emu.base_url()
            ))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{version}");
    }
}

#[tokio::test]
async fn daily_allocation() {
    let s = Session::new(EmulatorOptions {
        daily_api_limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(s.get("/limits").await.0, 200);
    let (_, l) = s.get("/limits").await;
    assert_eq!(l["DailyApiRequests"], json!({"Max": 2, "Remaining": 0}));
    let (status, headers, body) = s.call(Method::GET, "/limits", None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(headers["sforce-limit-info"], "api-usage=2/2");
}

#[tokio::test]
async fn error_rate_is_deterministic_for_a_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let s = Session::new(EmulatorOptions {
            error_rate: 0.5,
            fault_seed: seed,
            ..Default::default()
        })
        .await;
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(
                s.call(
                    Method::PATCH,
                    "/sobjects/Account/001000000000000",
                    Some(json!({})),
                )
                .await
                .0
                .as_u16(),
            );
        }
        out
    }
    let a = statuses(3).await;
    assert_eq!(a, statuses(3).await);
    assert!(a.contains(&503) && a.contains(&400), "{a:?}");
}

#[tokio::test]
async fn http_control_surface() {
    let s = Session::default().await;
    let base = s.emu.base_url();
    let r = s
        .http
        .post(format!("{base}/__emulator__/faults"))
        .json(&json!({"inject": ["ServiceUnavailable"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(s.get("/limits").await.0, 503);
    assert_eq!(s.get("/limits").await.0, 200);
    s.http
        .post(format!("{base}/__emulator__/limits"))
        .json(&json!({"used": 10, "max": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(s.get("/limits").await.0, 403);
    s.http
        .post(format!("{base}/__emulator__/expire-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(s.get("/limits").await.0, 401);
    let c: Value = s
        .http
        .get(format!("{base}/__emulator__/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["byKind"]["Limits"], 4);
    assert_eq!(c["faults"], 1);
    assert_eq!(s.emu.counters().get(EndpointKind::Token), 1);
}

// ---------------------------------------------------------------- SOQL semantics

#[tokio::test]
async fn soql_operators() {
    let s = Session::new(EmulatorOptions {
        seed_sample_data: false,
        ..Default::default()
    })
    .await;
    for (name, ty, phone) in [
        ("Alpha", "Nonprofit", Some("1")),
        ("beta", "Library", None),
        ("Gamma_1", "School", Some("3")),
        ("Delta%", "Other", None),
    ] {
        s.emu
            .insert_record("Account", json!({"Name": name, "Type": ty, "Phone": phone}))
            .unwrap();
    }
    let cases: &[(&str, &[&str])] = &[
        ("SELECT Name FROM Account WHERE Name = 'ALPHA'", &["Alpha"]),
        (
            "SELECT Name FROM Account WHERE Name != 'alpha' ORDER BY Name",
            &["beta", "Delta%", "Gamma_1"],
        ),
        (
            "SELECT Name FROM Account WHERE Name LIKE 'g%'",
            &["Gamma_1"],
        ),
        (
            "SELECT Name FROM Account WHERE Name LIKE '%a\\_1'",
            &["Gamma_1"],
        ),
        (
            "SELECT Name FROM Account WHERE Name LIKE '%\\%'",
            &["Delta%"],
        ),
        ("SELECT Name FROM Account WHERE Name LIKE '_eta'", &["beta"]),
        (
            "SELECT Name FROM Account WHERE Type IN ('Library', 'School') ORDER BY Name DESC",
            &["Gamma_1", "beta"],
        ),
        (
            "SELECT Name FROM Account WHERE Type NOT IN ('Library', 'School') ORDER BY Name",
            &["Alpha", "Delta%"],
        ),
        (
            "SELECT Name FROM Account WHERE Phone = null ORDER BY Name",
            &["beta", "Delta%"],
        ),
        (
            "SELECT Name FROM Account WHERE NOT (Phone = null OR Name = 'Alpha')",
            &["Gamma_1"],
        ),
        (
            "SELECT Name FROM Account WHERE (Type = 'Other' OR Type = 'School') AND Phone != null",
            &["Gamma_1"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Phone DESC NULLS LAST, Name LIMIT 3",
            &["Gamma_1", "Alpha", "beta"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Phone NULLS FIRST, Name LIMIT 2 OFFSET 1",
            &["Delta%", "Alpha"],
        ),
        (
            "select name from account where name > 'b' and name < 'e' order by name",
            &["beta", "Delta%"],
        ),
    ];
    for (q, want) in cases {
        assert_eq!(s.names(q).await, *want, "{q}");
    }
}

#[tokio::test]
async fn soql_dates_ids_booleans_and_semi_joins() {
    let s = Session::default().await;
    assert_eq!(s.names("SELECT Name FROM Opportunity WHERE CloseDate >= 2024-12-01 AND CloseDate < 2025-04-01 ORDER BY CloseDate").await.len(), 2);
    assert_eq!(s.names("SELECT Name FROM Lead WHERE CreatedDate >= 2024-08-15T18:00:00+02:00 AND Role__c = 'Partner'").await.len(), 3, "offsets convert to UTC");
    assert_eq!(
        s.names("SELECT Name FROM Lead WHERE IsConverted = true")
            .await
            .len(),
        2
    );
    let (_, r) = s
        .query("SELECT Id FROM Account ORDER BY Name LIMIT 1")
        .await;
    let id18 = r["records"][0]["Id"].as_str().unwrap().to_string();
    let id15 = &id18[..15];
    assert_eq!(
        s.names(&format!("SELECT Name FROM Account WHERE Id = '{id15}'"))
            .await
            .len(),
        1,
        "15-char ids match"
    );
    assert_eq!(
        s.names(&format!(
            "SELECT Name FROM Account WHERE Id = '{}'",
            id18.to_lowercase()
        ))
        .await
        .len(),
        1,
        "18-char ids are case-insensitive"
    );
    assert_eq!(
        s.names("SELECT Name FROM Contact WHERE Id NOT IN (SELECT ContactId FROM Opportunity WHERE RecordTypeId = '0123p000000EILEAA4')").await,
        ["Marcus Webb"]
    );
    assert_eq!(
        s.names(
            "SELECT Name FROM Lead WHERE Capacity_Building_Needs__c INCLUDES ('Train the trainer')"
        )
        .await,
        ["Ana Reyes"]
    );
}

#[tokio::test]
async fn soql_errors() {
    let s = Session::default().await;
    let cases = [
        (
            "SELECT Id FROM Lead WHERE A__c = 1 AND B__c = 2 OR C__c = 3",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        (
            "SELECT Id FROM Lead WHERE Name = 'a\\qb'",
            "MALFORMED_QUERY",
            "Illegal character sequence '\\q'",
        ),
        (
            "SELECT Id FROM Lead WHERE Name = 'abc",
            "MALFORMED_QUERY",
            "expecting '''",
        ),
        (
            "SELECT Id FROM Lead WHERE Name = 'a\\%'",
            "MALFORMED_QUERY",
            "Invalid string literal",
        ),
        (
            "SELECT Id, Bogus FROM Lead",
            "INVALID_FIELD",
            "No such column 'Bogus' on entity 'Lead'",
        ),
        (
            "SELECT Id FROM Lead WHERE IsConverted = 'true'",
            "INVALID_FIELD",
            "must be of type boolean",
        ),
        (
            "SELECT Id FROM Lead WHERE Name = 5",
            "INVALID_FIELD",
            "must be of type string and should be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Lead WHERE Id = 'abc'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: abc",
        ),
        (
            "SELECT Owner.Name FROM Lead",
            "INVALID_FIELD",
            "Didn't understand relationship 'Owner'",
        ),
        (
            "SELECT Id FROM Foo",
            "INVALID_TYPE",
            "sObject type 'Foo' is not supported",
        ),
    ];
    for (q, code, text) in cases {
        let (status, body) = s.query(q).await;
        assert_eq!(status, 400, "{q}");
        assert_eq!(body[0]["errorCode"], code, "{q}: {body}");
        let msg = body[0]["message"].as_str().unwrap();
        assert!(msg.contains(text), "{q}: {msg}");
    }
    let resp = s
        .http
        .get(s.url("/query"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body[0]["message"], "A query string has to be specified");
}

// ---------------------------------------------------------------- rows

#[tokio::test]
async fn rows_and_upsert_versions() {
    let s = Session::default().await;
    let (status, _, body) = s
        .call(
            Method::PATCH,
            "/sobjects/Account/External_Id__c/X-1",
            Some(json!({"Name": "X"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["created"].as_bool()),
        (201, Some(true))
    );
    let (status, _, body) = s
        .call(
            Method::PATCH,
            "/sobjects/Account/External_Id__c/X-1",
            Some(json!({"Name": "X2"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["created"].as_bool()),
        (200, Some(false))
    );
    let resp = s
        .http
        .patch(format!(
            "{}/services/data/v45.0/sobjects/Account/External_Id__c/X-1",
            s.emu.base_url()
        ))
        .bearer_auth(&s.token)
        .json(&json!({"Name": "X3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "pre-v46 upsert update has no body");
    let (status, rec) = s.get("/sobjects/Account/External_Id__c/X-1").await;
    assert_eq!((status.as_u16(), rec["Name"].as_str()), (200, Some("X3")));
    let id = rec["Id"].as_str().unwrap();
    let (status, _, body) = s
        .call(Method::GET, &format!("/sobjects/Lead/{id}"), None)
        .await;
    assert_eq!(
        (status.as_u16(), body[0]["errorCode"].as_str()),
        (400, Some("MALFORMED_ID"))
    );
    let (status, _, body) = s
        .call(
            Method::PATCH,
            &format!("/sobjects/Account/{id}"),
            Some(json!({"Name": null})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body[0]["errorCode"].as_str()),
        (400, Some("REQUIRED_FIELD_MISSING"))
    );
    let (status, _, body) = s
        .call(
            Method::PATCH,
            &format!("/sobjects/Account/{id}"),
            Some(json!({"CreatedDate": null})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body[0]["errorCode"].as_str()),
        (400, Some("INVALID_FIELD_FOR_INSERT_UPDATE"))
    );
    let resp = s
        .http
        .patch(s.url(&format!("/sobjects/Account/{id}")))
        .bearer_auth(&s.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "JSON_PARSER_ERROR");
    let (status, _, body) = s
        .call(
            Method::POST,
            "/sobjects/Lead/",
            Some(json!({"LastName": "E", "Company": "C", "Email": "not-an-email"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body[0]["errorCode"].as_str()),
        (400, Some("INVALID_EMAIL_ADDRESS"))
    );
    let (status, _, _) = s
        .call(Method::DELETE, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _, body) = s
        .call(Method::DELETE, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(
        (status.as_u16(), body[0]["errorCode"].as_str()),
        (404, Some("ENTITY_IS_DELETED"))
    );
}

#[tokio::test]
async fn generator_is_deterministic_and_valid() {
    let opts = EmulatorOptions {
        seed_sample_data: false,
        generated_records_per_object: 30,
        fault_seed: 9,
        ..Default::default()
    };
    let a = Session::new(opts.clone()).await;
    let b = Session::new(opts).await;
    for object in ["Lead", "Account", "Contact", "Opportunity"] {
        let strip = |rows: Vec<serde_json::Map<String, Value>>| -> Vec<Value> {
            rows.into_iter()
                .map(|mut r| {
                    r.remove("SystemModstamp");
                    Value::Object(r)
                })
                .collect()
        };
        assert_eq!(
            strip(a.emu.records(object)),
            strip(b.emu.records(object)),
            "{object}"
        );
        assert_eq!(a.emu.records(object).len(), 30);
    }
    // Generated records pass the emulator's own validation: re-saving one changes nothing.
    // (A third of the generated partner Leads are converted; saving those needs the permission.)
    a.emu.set_edit_converted_leads(true);
    for object in ["Lead", "Account", "Contact", "Opportunity"] {
        let schema = a.emu.schema();
        let def = schema.object(object).unwrap();
        for r in a.emu.records(object) {
            let body: serde_json::Map<String, Value> = r
                .iter()
                .filter(|(k, _)| def.field(k).is_some_and(|f| f.updateable))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let id = r["Id"].as_str().unwrap();
            let (status, _, err) = a
                .call(
                    Method::PATCH,
                    &format!("/sobjects/{object}/{id}"),
                    Some(Value::Object(body)),
                )
                .await;
            assert_eq!(status, 204, "{object} {id}: {err}");
        }
    }
}

// ---------------------------------------------------------------- conditional update

#[tokio::test]
async fn conditional_update_if_unmodified_since() {
    let s = Session::default().await;
    let id = s
        .emu
        .insert_record("Account", json!({"Name": "Conditional"}))
        .unwrap();
    s.emu
        .set_last_modified(&id, time::macros::datetime!(2024-06-01 12:00:00.750 UTC));
    let patch = |since: &'static str, phone: &'static str| {
        s.http
            .patch(s.url(&format!("/sobjects/Account/{id}")))
            .bearer_auth(&s.token)
            .header("If-Unmodified-Since", since)
            .json(&json!({"Phone": phone}))
            .send()
    };
    // The record changed in the second before the date (12:00:00.750 vs 11:59:59) → 412.
    let r = patch("Sat, 01 Jun 2024 11:59:59 GMT", "1").await.unwrap();
    assert_eq!(r.status(), 412);
    assert_eq!(s.emu.record(&id).unwrap().get("Phone"), None);
    // Same second: HTTP dates have no fraction, so the record is not "modified after" it.
    let r = patch("Sat, 01 Jun 2024 12:00:00 GMT", "2").await.unwrap();
    assert_eq!(r.status(), 204);
    let date = r.headers()["date"].to_str().unwrap().to_string();
    let date = httpdate::parse_http_date(&date).unwrap();
    let saved = s.emu.record(&id).unwrap();
    assert_eq!(saved["Phone"], "2");
    let modified = time::OffsetDateTime::parse(
        saved["LastModifiedDate"]
            .as_str()
            .unwrap()
            .replace("+0000", "Z")
            .as_str(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        time::OffsetDateTime::from(date).unix_timestamp() >= modified.unix_timestamp(),
        "the 204's Date is not before the save"
    );
    // Not a date → 400 (reference §6).
    let r = patch("yesterday", "3").await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(s.emu.record(&id).unwrap()["Phone"], "2");
}

// ---------------------------------------------------------------- converted leads

#[tokio::test]
async fn converted_leads_refuse_updates_unless_permitted() {
    let s = Session::default().await;
    let lead = s
        .emu
        .insert_record("Lead", json!({"LastName": "Conv", "Company": "Erted"}))
        .unwrap();
    let account = s
        .emu
        .insert_record("Account", json!({"Name": "Conv Co"}))
        .unwrap();
    let path = format!("/sobjects/Lead/{lead}");
    // Before conversion: accepted.
    let (status, _, _) = s
        .call(Method::PATCH, &path, Some(json!({"City": "Before"})))
        .await;
    assert_eq!(status, 204);
    assert!(s.emu.convert_lead(&lead, Some(&account), None));
    assert!(!s.emu.convert_lead(&account, None, None), "not a Lead");
    let (_, rec) = s
        .get(&format!("{path}?fields=IsConverted,ConvertedAccountId"))
        .await;
    assert_eq!(rec["IsConverted"], true);
    assert_eq!(rec["ConvertedAccountId"], json!(account));
    let (status, _, body) = s
        .call(Method::PATCH, &path, Some(json!({"City": "After"})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!([{"message": "cannot reference converted lead", "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD", "fields": []}])
    );
    // In a collection: that record fails, the others are saved.
    let other = s
        .emu
        .insert_record("Lead", json!({"LastName": "Plain", "Company": "Co"}))
        .unwrap();
    let (status, _, body) = s
        .call(
            Method::PATCH,
            "/composite/sobjects",
            Some(json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Lead"}, "id": lead, "City": "Batch"},
                {"attributes": {"type": "Lead"}, "id": other, "City": "Batch"},
            ]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body[0]["success"], false);
    assert_eq!(
        body[0]["errors"][0]["statusCode"],
        "CANNOT_UPDATE_CONVERTED_LEAD"
    );
    assert_eq!(body[1]["success"], true);
    assert_eq!(s.emu.record(&lead).unwrap()["City"], "Before");
    // The permission, granted over HTTP: accepted.
    let r = s
        .http
        .post(format!("{}/__emulator__/converted-leads", s.emu.base_url()))
        .json(&json!({"edit": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _, _) = s
        .call(Method::PATCH, &path, Some(json!({"City": "Permitted"})))
        .await;
    assert_eq!(status, 204);
    assert_eq!(s.emu.record(&lead).unwrap()["City"], "Permitted");
    // Marking converted over HTTP.
    let r = s
        .http
        .post(format!("{}/__emulator__/converted-leads", s.emu.base_url()))
        .json(&json!({"edit": false, "convert": [other]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _, _) = s
        .call(
            Method::PATCH,
            &format!("/sobjects/Lead/{other}"),
            Some(json!({"City": "No"})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn every_data_answer_counts_and_carries_the_usage() {
    let s = Session::new(EmulatorOptions {
        daily_api_limit: 50,
        ..Default::default()
    })
    .await;
    s.emu.set_api_usage(10);
    // An error answer counts and carries the header too.
    let (status, headers, _) = s
        .call(Method::GET, "/sobjects/Account/001000000000000AAA", None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(headers["sforce-limit-info"], "api-usage=11/50");
    let (status, headers, _) = s.call(Method::GET, "/query?q=SELEC", None).await;
    assert_eq!(status, 400);
    assert_eq!(headers["sforce-limit-info"], "api-usage=12/50");
    // An injected fault as well.
    s.emu
        .inject_faults([crmmap_emu_salesforce::Fault::ServiceUnavailable]);
    let (status, headers, _) = s.call(Method::GET, "/limits", None).await;
    assert_eq!(status, 503);
    assert_eq!(headers["sforce-limit-info"], "api-usage=13/50");
    assert_eq!(s.emu.api_usage(), 13);
    assert_eq!(s.emu.counters().api_calls, 3);
}
