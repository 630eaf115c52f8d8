//! The scenarios; each takes the backend and builds its own world.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crmmap_dsl::model::{ConflictPolicy, Origin};
use crmmap_emu_salesforce::EndpointKind;
use crmmap_engine::plan::{AssignPlan, DeletePlan, ExprPlan};
use crmmap_store::{Backend, SetValue, Side, column_key, field_key};
use crmmap_webhook::{AlertConfig, SecretString};
use serde_json::{Value, json};

use crate::harness::*;

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

pub async fn requests_are_authenticated_and_validated(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (s, b) = w.post(&json!({"challenge": "3eZbrw1aBm2rZgRNFdxV"})).await;
    assert_eq!((s, b), (200, json!({"challenge": "3eZbrw1aBm2rZgRNFdxV"})));

    let post = |url: String, body: Vec<u8>| {
        let http = w.http.clone();
        async move {
            let r = http.post(url).body(body).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let wrong = format!("{}/webhooks/monday/wrong-token-0123456789", w.base);
    let (s, b) = post(wrong, br#"{"challenge":"x"}"#.to_vec()).await;
    assert_eq!(s, 401);
    assert_eq!(b["error"], "missing or wrong webhook token");
    let (s, _) = post(
        format!("{}/webhooks/monday", w.base),
        br#"{"challenge":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(s, 401);

    let (s, b) = post(w.hook_url.clone(), b"{not json".to_vec()).await;
    assert_eq!(s, 400);
    assert!(text(&b["error"]).starts_with("the body is not json"), "{b}");
    let (s, b) = post(w.hook_url.clone(), br#"{"hello": 1}"#.to_vec()).await;
    assert_eq!(s, 400, "{b}");
    let mut missing = event(
        "create_pulse",
        LEAD,
        1,
        "aaaa0000aaaa0000aaaa0000aaaa0001",
        json!({}),
    );
    missing["event"].as_object_mut().unwrap().remove("pulseId");
    let (s, b) = w.post(&missing).await;
    assert_eq!(
        (s, text(&b["error"])),
        (400, "`event.pulseId` is missing or not an id".to_owned())
    );
    let big = format!(
        r#"{{"event": {{"type": "create_pulse", "pad": "{}"}}}}"#,
        "x".repeat(300_000)
    );
    let (s, b) = post(w.hook_url.clone(), big.into_bytes()).await;
    assert_eq!(s, 413, "{b}");

    let (s, b) = w
        .post(&event(
            "create_pulse",
            42,
            7,
            "aaaa0000aaaa0000aaaa0000aaaa0002",
            json!({"pulseName": "x"}),
        ))
        .await;
    assert_eq!((s, text(&b["outcome"])), (200, "skipped".to_owned()));
    assert_eq!(b["detail"], "board 42 is not mapped");
    let (s, b) = w
        .post(&event(
            "create_update",
            LEAD,
            7,
            "aaaa0000aaaa0000aaaa0000aaaa0003",
            json!({}),
        ))
        .await;
    assert_eq!((s, text(&b["outcome"])), (200, "skipped".to_owned()));
    let (s, b) = w
        .post(&event(
            "update_column_value",
            LEAD,
            7,
            "aaaa0000aaaa0000aaaa0000aaaa0004",
            json!({"columnId": "no_such_column", "value": null, "previousValue": null}),
        ))
        .await;
    assert_eq!((s, text(&b["outcome"])), (200, "skipped".to_owned()), "{b}");

    // Still serving.
    let r = w
        .http
        .get(format!("{}/health", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let log = w.log_reasons().await;
    assert!(
        log.iter().any(|l| l.contains("board 42 is not mapped")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("event type `create_update` is not handled")),
        "{log:?}"
    );
    w.stop().await;
}

fn jwt(secret: &str, exp_offset: i64) -> String {
    jwt_for(secret, exp_offset, Some("x"))
}

fn jwt_for(secret: &str, exp_offset: i64, aud: Option<&str>) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({"accountId": 1, "userId": 2, "iat": now, "exp": now + exp_offset});
    if let Some(aud) = aud {
        claims["aud"] = json!(aud);
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// With `CRMMAP_PUBLIC_URL` set, a signed request is accepted only when its JWT's `aud` is
/// the URL it was posted to as monday sees it (`monday-api.md` §5.3).
pub async fn the_jwt_audience_is_checked_when_the_public_url_is_set(backend: Backend) {
    const PUBLIC: &str = "https://crmmap.example.com/prod";
    let mut setup = Setup::new(backend);
    setup.options.auth.signing_secret = Some(SecretString::new("app-signing-secret"));
    setup.options.auth.require_signature = true;
    setup.options.auth.public_url = Some(PUBLIC.to_owned());
    let Some(w) = World::start(setup).await else {
        return;
    };
    let send = |url: String, aud: Option<String>| {
        let http = w.http.clone();
        async move {
            let jwt = jwt_for("app-signing-secret", 300, aud.as_deref());
            let r = http
                .post(url)
                .header("Authorization", jwt)
                .json(&json!({"challenge": "c"}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let signed = format!("{}/webhooks/monday", w.base);
    let right = format!("{PUBLIC}/webhooks/monday");
    let (s, b) = send(signed.clone(), Some(right.clone())).await;
    assert_eq!((s, b), (200, json!({"challenge": "c"})));
    // On the path-token route the registered URL includes the token.
    let (s, _) = send(w.hook_url.clone(), Some(format!("{right}/{TOKEN}"))).await;
    assert_eq!(s, 200);
    let (s, _) = send(w.hook_url.clone(), Some(right.clone())).await;
    assert_eq!(s, 401);
    for aud in [
        Some("https://crmmap.example.com/staging/webhooks/monday".to_owned()),
        Some(signed.clone()),
        Some(PUBLIC.to_owned()),
        None,
    ] {
        let (s, b) = send(signed.clone(), aud.clone()).await;
        assert_eq!(s, 401, "{aud:?}");
        assert_eq!(
            b["error"],
            "the signed token is not for this endpoint (`aud` differs from CRMMAP_PUBLIC_URL)",
            "{aud:?}"
        );
    }
    w.stop().await;
}

pub async fn signed_requests_verify_and_forged_ones_are_refused(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.sign = Some("app-signing-secret");
    setup.options.auth.signing_secret = Some(SecretString::new("app-signing-secret"));
    setup.options.auth.require_signature = true;
    let Some(w) = World::start(setup).await else {
        return;
    };
    let url = format!("{}/webhooks/monday", w.base);
    let body = json!({"challenge": "c"});
    let send = |auth: Option<String>| {
        let (http, url, body) = (w.http.clone(), url.clone(), body.clone());
        async move {
            let mut r = http.post(url).json(&body);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            r.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(send(Some(jwt("app-signing-secret", 300))).await, 200);
    assert_eq!(send(Some(jwt("forged-secret", 300))).await, 401);
    assert_eq!(send(Some(jwt("app-signing-secret", -3600))).await, 401);
    assert_eq!(send(None).await, 401);
    // A valid path token is not enough when signatures are required.
    let r = w.http.post(&w.hook_url).json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // The emulator's signed deliveries go through end to end.
    let (_, record) = w.create_linked(ACCOUNT, "Signed Org", json!({})).await;
    assert_eq!(w.record(&record)["Name"], "Signed Org");
    assert!(
        w.monday
            .state()
            .webhooks()
            .deliveries()
            .iter()
            .all(|d| d.signed)
    );
    w.stop().await;
}

#[expect(clippy::type_complexity, reason = "a table of cases")]
pub async fn every_event_type_for_every_object(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    // (board, name, expected name fields, column, value, field, expected, renamed, rename fields)
    let cases: Vec<(
        u64,
        &str,
        Vec<(&str, &str)>,
        &str,
        Value,
        &str,
        Value,
        &str,
        Vec<(&str, &str)>,
    )> = vec![
        (
            LEAD,
            "acme org",
            vec![("Company", "Acme org"), ("LastName", "Unknown")],
            "text_mkry13cw",
            json!("Ada"),
            "FirstName",
            json!("Ada"),
            "Beta Org",
            vec![("Company", "Beta Org")],
        ),
        (
            ACCOUNT,
            "Acme Inc",
            vec![("Name", "Acme Inc")],
            "text_mkry84sc",
            json!("Lyon"),
            "BillingCity",
            json!("Lyon"),
            "Acme Holdings",
            vec![("Name", "Acme Holdings")],
        ),
        (
            CONTACT,
            "Ada King Lovelace",
            vec![("FirstName", "Ada King"), ("LastName", "Lovelace")],
            "text_mks67we5",
            json!("Byron"),
            "LastName",
            json!("Byron"),
            "Grace Hopper",
            vec![("FirstName", "Grace"), ("LastName", "Hopper")],
        ),
        (
            OPPORTUNITY,
            "Big Deal",
            vec![("Name", "Big Deal"), ("StageName", "Need Analysis")],
            "long_text_mksjyg4z",
            json!({"text": "Two schools"}),
            "Description",
            json!("Two schools"),
            "Bigger Deal",
            vec![("Name", "Bigger Deal")],
        ),
    ];
    for (board, name, created, column, value, field, expected, renamed, rename_fields) in cases {
        let (item, record) = w.create_linked(board, name, json!({})).await;
        let r = w.record(&record);
        for (f, v) in &created {
            assert_eq!(r[*f], *v, "{board} {f}: {r:?}");
        }
        // The key column holds the record id.
        let key = w
            .webhook
            .context()
            .plans
            .plan_for_board(BoardId::new(board))
            .unwrap()
            .key_column
            .clone();
        let stored = w.monday.state().item(item.parse().unwrap()).unwrap();
        assert!(
            format!("{:?}", stored.values.get(key.as_str())).contains(&record),
            "{stored:?}"
        );

        w.set(board, &item, column, value).await;
        assert_eq!(w.record(&record)[field], expected, "{board} {field}");

        let before = w.monday.state().webhooks().deliveries().len();
        w.human
            .change_column_values(
                board.into(),
                item.parse().unwrap(),
                [("name".to_owned(), json!(renamed))].into_iter().collect(),
                false,
            )
            .await
            .unwrap();
        let id = item.clone();
        w.delivered("rename", |e| {
            e["type"] == "update_name" && id_is(&e["pulseId"], &id)
        })
        .await;
        assert!(w.monday.state().webhooks().deliveries().len() > before);
        let r = w.record(&record);
        for (f, v) in &rename_fields {
            assert_eq!(r[*f], *v, "{board} rename {f}: {r:?}");
        }

        // Archive (policy `log`): the record stays, the decision is logged.
        w.human.archive_item(item.parse().unwrap()).await.unwrap();
        let id = item.clone();
        w.delivered("archive", |e| {
            e["type"] == "archive_pulse" && id_is(&e["itemId"], &id)
        })
        .await;
        assert_ne!(
            w.record(&record).get("IsDeleted"),
            Some(&json!(true)),
            "{board}: archived item must not delete"
        );
        // Delete (policy `log`), on another item of the board.
        let (item, record) = w.create_linked(board, "To Delete", json!({})).await;
        w.human.delete_item(item.parse().unwrap()).await.unwrap();
        let id = item.clone();
        w.delivered("delete", |e| {
            e["type"] == "delete_pulse" && id_is(&e["itemId"], &id)
        })
        .await;
        assert_ne!(
            w.record(&record).get("IsDeleted"),
            Some(&json!(true)),
            "{board}: deleted item must not delete"
        );
    }
    let log = w.log_reasons().await;
    let count = |needle: &str| log.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(
        count("delete_pulse: the mapping's delete policy is `log`"),
        4,
        "{log:?}"
    );
    assert_eq!(
        count("archive_pulse: the mapping's delete policy is `log`"),
        4,
        "{log:?}"
    );
    assert_eq!(count("created create_pulse"), 8, "{log:?}");
    w.stop().await;
}

pub async fn duplicate_deliveries_change_nothing(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (item, _) = w.create_linked(LEAD, "Dup Org", json!({})).await;
    let leads = w.records("Lead").len();
    let id = item.clone();
    let create = w
        .delivered("create", |e| {
            e["type"] == "create_pulse" && id_is(&e["pulseId"], &id)
        })
        .await;
    // monday retries the same delivery.
    let mut again = create.body.clone();
    again["event"]["isRetry"] = json!(true);
    let (s, b) = w.post(&again).await;
    assert_eq!((s, b["outcome"].clone()), (200, json!("duplicate")));
    assert_eq!(w.records("Lead").len(), leads);

    // Many copies of one new event at once: exactly one applies.
    let ev = event(
        "update_column_value",
        LEAD,
        item.parse().unwrap(),
        "eeee0000eeee0000eeee0000eeee0001",
        json!({"columnId": "text_mkry13cw", "value": {"value": "Zed"}, "previousValue": null}),
    );
    w.change(LEAD, &item, json!({"text_mkry13cw": "Zed"})).await;
    let outcomes: Vec<Value> = futures::future::join_all((0..6).map(|_| w.post(&ev)))
        .await
        .into_iter()
        .map(|(_, b)| b["outcome"].clone())
        .collect();
    let applied = outcomes
        .iter()
        .filter(|o| *o != "duplicate" && *o != "queued")
        .count();
    assert_eq!(applied, 1, "{outcomes:?}");
    assert_eq!(w.records("Lead").len(), leads);
    w.stop().await;
}

/// Deduplication is on `triggerUuid` only: `originalTriggerUuid` is undocumented and may be
/// shared by distinct events (an automation chain), so it never makes an event a duplicate; it
/// is kept in the sync log.
pub async fn events_sharing_an_original_trigger_are_all_applied(backend: Backend) {
    let mut setup = Setup::new(backend);
    // Every event is posted by the test, so each Salesforce change has one known cause.
    setup.deliver = false;
    let Some(w) = World::start(setup).await else {
        return;
    };
    let item = w.create_item(LEAD, "Chain Org", json!({})).await;
    let id: u64 = item.parse().unwrap();
    let (s, b) = w
        .post(&event(
            "create_pulse",
            LEAD,
            id,
            "aaaa1111aaaa1111aaaa1111aaaa0001",
            json!({"pulseName": "Chain Org"}),
        ))
        .await;
    assert_eq!((s, b["outcome"].clone()), (200, json!("created")), "{b}");
    let record = b["record"].as_str().unwrap().to_owned();
    let original = "0123456789abcdef0123456789abcdef";
    let change = |uuid: &str, column: &str, value: &str| {
        let mut e = event(
            "update_column_value",
            LEAD,
            id,
            uuid,
            json!({"columnId": column, "value": {"value": value}, "previousValue": null}),
        );
        e["event"]["originalTriggerUuid"] = json!(original);
        e
    };
    // Two distinct changes with their own triggerUuid and the same originalTriggerUuid.
    w.change(LEAD, &item, json!({"text_mkry13cw": "Grace"}))
        .await;
    let first = change("aaaa1111aaaa1111aaaa1111aaaa0002", "text_mkry13cw", "Grace");
    let (s, b) = w.post(&first).await;
    assert_eq!((s, b["outcome"].clone()), (200, json!("updated")), "{b}");
    w.change(LEAD, &item, json!({"text_mkrym6fa": "Lyon"}))
        .await;
    let second = change("aaaa1111aaaa1111aaaa1111aaaa0003", "text_mkrym6fa", "Lyon");
    let (s, b) = w.post(&second).await;
    assert_eq!((s, b["outcome"].clone()), (200, json!("updated")), "{b}");
    let lead = w.record(&record);
    assert_eq!(
        (&lead["FirstName"], &lead["City"]),
        (&json!("Grace"), &json!("Lyon"))
    );
    // A redelivery keeps its triggerUuid: a duplicate.
    let mut again = second.clone();
    again["event"]["isRetry"] = json!(true);
    let (s, b) = w.post(&again).await;
    assert_eq!((s, b["outcome"].clone()), (200, json!("duplicate")));
    // The original is in the log rows of both events, keyed by their own triggerUuid.
    let rows = w
        .store
        .query_log(&crmmap_store::LogFilter {
            limit: 100,
            ..crmmap_store::LogFilter::default()
        })
        .await
        .unwrap();
    for (uuid, action) in [
        ("aaaa1111aaaa1111aaaa1111aaaa0002", "updated"),
        ("aaaa1111aaaa1111aaaa1111aaaa0003", "updated"),
        ("aaaa1111aaaa1111aaaa1111aaaa0003", "skipped"),
    ] {
        assert!(
            rows.iter()
                .any(|r| r.entry.trigger_uuid.as_deref() == Some(uuid)
                    && r.entry.action.as_str() == action
                    && r.entry.request_summary.as_deref()
                        == Some(&*format!(
                            "update_column_value (originalTriggerUuid {original})"
                        ))),
            "{uuid} {action}: {rows:#?}"
        );
    }
    w.stop().await;
}

pub async fn a_column_change_costs_one_read_and_one_write(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Cost Org", json!({})).await;
    w.set(LEAD, &item, "text_mkry13cw", json!("First")).await;
    let sf0 = w.sf.state().counters();
    let m0 = w.monday.state().counters();
    w.set(LEAD, &item, "text_mkrym6fa", json!("Paris")).await;
    let sf1 = w.sf.state().counters();
    let m1 = w.monday.state().counters();
    assert_eq!(w.record(&record)["City"], "Paris");
    assert_eq!(
        sf1.get(EndpointKind::Update) - sf0.get(EndpointKind::Update),
        1
    );
    assert_eq!(sf1.api_calls - sf0.api_calls, 1, "one salesforce call");
    assert_eq!(
        sf1.get(EndpointKind::Token),
        sf0.get(EndpointKind::Token),
        "token cached"
    );
    // The human's mutation is one request; the runner's read is the other.
    assert_eq!(m1.executed - m0.executed, 2, "{m0:?} {m1:?}");
    assert_eq!(
        m1.root_fields.get("items").copied().unwrap_or(0)
            - m0.root_fields.get("items").copied().unwrap_or(0),
        1
    );
    assert_eq!(
        m1.root_fields.get("boards").copied().unwrap_or(0),
        m0.root_fields.get("boards").copied().unwrap_or(0),
        "never reads the board"
    );
    w.stop().await;
}

pub async fn crmmap_echoes_are_not_written_back(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Echo Org", json!({})).await;
    let board = LEAD.to_string();
    let updates = w.sf.state().counters().get(EndpointKind::Update);
    // The migrator's way: record what it writes as last synced, then write it to monday.
    for (i, (column, field, value)) in [
        ("text_mkry13cw", "FirstName", "Grace"),
        ("text_mkrym6fa", "City", "Berlin"),
        ("text_mkry1xy1", "LastName", "Hopper"),
        ("text_mkry13cw", "FirstName", "Ada"),
    ]
    .into_iter()
    .enumerate()
    {
        w.sf.state().update_record(&record, json!({ field: value }));
        let v = crmmap_engine::Value::text(value).to_json();
        w.store
            .set_synced_values(
                bid(&board),
                iid(&item),
                &[
                    SetValue {
                        key: column_key(&column.into()),
                        value: v.clone(),
                        source: Side::Monday,
                    },
                    SetValue {
                        key: field_key(field),
                        value: v,
                        source: Side::Monday,
                    },
                ],
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        w.set(LEAD, &item, column, json!(value)).await;
        assert_eq!(
            w.sf.state().counters().get(EndpointKind::Update),
            updates,
            "echo {i} written back"
        );
    }
    let log = w.log_reasons().await;
    assert!(
        log.iter()
            .filter(|l| l.contains("echo or no change"))
            .count()
            >= 4,
        "{log:?}"
    );
    w.stop().await;
}

pub async fn own_user_events_are_skipped_without_calls(backend: Backend) {
    let mut setup = Setup::new(backend);
    // The emulator's deliveries carry its token's user: crmmap's own user here.
    setup.monday_user_id = Some(crmmap_emu_monday::EmulatorOptions::default().user_id);
    let Some(w) = World::start(setup).await else {
        return;
    };
    let leads = w.records("Lead").len();
    let sf0 = w.sf.state().counters().api_calls;
    let item = w.create_item(LEAD, "Own Write", json!({})).await;
    let id = item.clone();
    w.delivered("create", |e| {
        e["type"] == "create_pulse" && id_is(&e["pulseId"], &id)
    })
    .await;
    w.set(LEAD, &item, "text_mkry13cw", json!("Self")).await;
    assert_eq!(w.records("Lead").len(), leads);
    assert_eq!(w.sf.state().counters().api_calls, sf0);
    let log = w.log_reasons().await;
    assert!(
        log.iter()
            .filter(|l| l.contains("crmmap's own monday user"))
            .count()
            >= 2,
        "{log:?}"
    );
    w.stop().await;
}

pub async fn conflicts_follow_the_policy(backend: Backend) {
    for prefer_monday in [false, true] {
        let mut setup = Setup::new(backend);
        if prefer_monday {
            let lead = setup
                .plans
                .plans
                .iter_mut()
                .find(|p| p.object == "Lead")
                .unwrap();
            for f in lead.fields.iter_mut().filter(|f| f.field == "FirstName") {
                f.conflict = ConflictPolicy::PreferMonday;
            }
        }
        let Some(w) = World::start(setup).await else {
            return;
        };
        let (item, record) = w.create_linked(LEAD, "Conflict Org", json!({})).await;
        w.set(LEAD, &item, "text_mkry13cw", json!("One")).await;
        assert_eq!(w.record(&record)["FirstName"], "One");
        // Someone edits the same field in Salesforce, later than crmmap's last write.
        w.sf.state()
            .update_record(&record, json!({"FirstName": "Edited In Salesforce"}));
        w.sf.state().set_last_modified(
            &record,
            time::OffsetDateTime::now_utc() + time::Duration::seconds(5),
        );
        let conflicts =
            w.sf.state()
                .request_log()
                .iter()
                .filter(|r| r.status == 412)
                .count();
        w.set(LEAD, &item, "text_mkry13cw", json!("Two")).await;
        assert_eq!(
            w.sf.state()
                .request_log()
                .iter()
                .filter(|r| r.status == 412)
                .count(),
            conflicts + 1,
            "the conditional update detected it"
        );
        let expected = if prefer_monday {
            "Two"
        } else {
            "Edited In Salesforce"
        };
        assert_eq!(w.record(&record)["FirstName"], expected);
        if !prefer_monday {
            let log = w.log_reasons().await;
            assert!(
                log.iter()
                    .any(|l| l.contains("conflict: salesforce changed FirstName too")),
                "{log:?}"
            );
        }
        // A Salesforce change to another field is not a conflict: the update goes through.
        let (item2, record2) = w.create_linked(LEAD, "Other Field Org", json!({})).await;
        w.set(LEAD, &item2, "text_mkry13cw", json!("A")).await;
        w.sf.state()
            .update_record(&record2, json!({"City": "Rome"}));
        w.sf.state().set_last_modified(
            &record2,
            time::OffsetDateTime::now_utc() + time::Duration::seconds(5),
        );
        w.set(LEAD, &item2, "text_mkry13cw", json!("B")).await;
        let r = w.record(&record2);
        assert_eq!(
            (r["FirstName"].clone(), r["City"].clone()),
            (json!("B"), json!("Rome"))
        );
        w.stop().await;
    }
}

fn origin() -> Origin {
    Origin {
        file: "test".into(),
        line: 1,
        column: 1,
    }
}

pub async fn delete_policies(backend: Backend) {
    let mut setup = Setup::new(backend);
    for p in setup.plans.plans.iter_mut() {
        match p.object.as_str() {
            "Account" => p.on_delete = DeletePlan::Delete,
            "Opportunity" => {
                p.on_delete = DeletePlan::Set(vec![AssignPlan {
                    field: "StageName".into(),
                    value: ExprPlan::Str("Closed Lost".into()),
                    origin: origin(),
                }])
            }
            _ => {}
        }
    }
    let Some(w) = World::start(setup).await else {
        return;
    };
    let (acct_item, acct) = w.create_linked(ACCOUNT, "Gone Inc", json!({})).await;
    let (opp_item, opp) = w.create_linked(OPPORTUNITY, "Lost Deal", json!({})).await;
    let (lead_item, lead) = w.create_linked(LEAD, "Kept Org", json!({})).await;
    w.human
        .delete_item(acct_item.parse().unwrap())
        .await
        .unwrap();
    w.human
        .archive_item(opp_item.parse().unwrap())
        .await
        .unwrap();
    w.human
        .delete_item(lead_item.parse().unwrap())
        .await
        .unwrap();
    for i in [&acct_item, &opp_item, &lead_item] {
        let id = i.to_string();
        w.delivered("delete", |e| id_is(&e["itemId"], &id)).await;
    }
    assert_eq!(
        w.record(&acct).get("IsDeleted"),
        Some(&json!(true)),
        "delete policy deletes: {:?}",
        w.log_reasons().await
    );
    assert!(
        w.store
            .link_by_item(bid(ACCOUNT.to_string()), iid(&acct_item))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(w.record(&opp)["StageName"], "Closed Lost");
    assert_ne!(
        w.record(&lead).get("IsDeleted"),
        Some(&json!(true)),
        "log policy keeps the record"
    );
    w.stop().await;
}

pub async fn board_relation_changes_set_the_reference(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (acct_item, acct) = w.create_linked(ACCOUNT, "Linked Inc", json!({})).await;
    let (lead_item, lead) = w.create_linked(LEAD, "Linking Org", json!({})).await;
    let acct_num: u64 = acct_item.parse().unwrap();
    w.set(
        LEAD,
        &lead_item,
        "board_relation_mks9cjfs",
        json!({"item_ids": [acct_num]}),
    )
    .await;
    assert_eq!(
        w.record(&lead).get("Linked_Account__c"),
        Some(&json!(acct)),
        "{:?}",
        w.log_reasons().await
    );
    w.set(
        LEAD,
        &lead_item,
        "board_relation_mks9cjfs",
        json!({"item_ids": []}),
    )
    .await;
    assert_eq!(
        w.record(&lead)
            .get("Linked_Account__c")
            .unwrap_or(&Value::Null),
        &Value::Null
    );
    // A linked item whose record does not exist yet: queued, not lost.
    let orphan = w.create_item(ACCOUNT, "No Record Yet", json!({})).await;
    let _ = orphan;
    w.stop().await;
}

pub async fn qualified_lead_creates_its_records_once(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (item, lead) = w
        .create_linked(LEAD, "qualify org", json!({"text_mkry13cw": "Ada", "text_mkry1xy1": "Lovelace", "email_mksx3vtp": {"email": "ada@example.org", "text": "ada@example.org"}}))
        .await;
    let counts = |w: &World| {
        (
            w.records("Account").len(),
            w.records("Contact").len(),
            w.records("Opportunity").len(),
        )
    };
    let before = counts(&w);
    w.set(LEAD, &item, "color_mksj2adq", json!({"label": "Qualified"}))
        .await;
    assert_eq!(counts(&w), (before.0 + 1, before.1 + 1, before.2 + 1));
    let r = w.record(&lead);
    assert_eq!(r["Status"], "Qualified");
    let (acct, contact, opp) = (
        text(&r["Linked_Account__c"]),
        text(&r["Linked_Contact__c"]),
        text(&r["Linked_Opportunity__c"]),
    );
    assert_eq!(w.record(&acct)["Name"], "Qualify org");
    let c = w.record(&contact);
    assert_eq!(
        (
            c["FirstName"].clone(),
            c["LastName"].clone(),
            c["AccountId"].clone()
        ),
        (json!("Ada"), json!("Lovelace"), json!(acct))
    );
    let o = w.record(&opp);
    assert_eq!(
        (o["StageName"].clone(), o["AccountId"].clone()),
        (json!("Need Analysis"), json!(acct))
    );
    // Later status changes reach the Opportunity's stage.
    w.set(LEAD, &item, "color_mksj2adq", json!({"label": "Follow-up"}))
        .await;
    assert_eq!(w.record(&opp)["StageName"], "Follow-up");
    w.set(LEAD, &item, "color_mksj2adq", json!({"label": "Quote"}))
        .await;
    assert_eq!(w.record(&opp)["StageName"], "Quote");
    // Qualified again: nothing is created twice.
    w.set(LEAD, &item, "color_mksj2adq", json!({"label": "Qualified"}))
        .await;
    assert_eq!(counts(&w), (before.0 + 1, before.1 + 1, before.2 + 1));
    assert_eq!(w.record(&lead)["Linked_Opportunity__c"], json!(opp));
    w.stop().await;
}

pub async fn concurrent_events_for_one_item_apply_in_order(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Busy Org", json!({})).await;
    // A second instance on the same database (another Lambda).
    let store_b = crmmap_store::Store::connect(w.db.url()).await.unwrap();
    let mut ctx_b = w.webhook.context().clone();
    ctx_b.store = store_b.clone();
    let b = crmmap_webhook::Webhook::new(ctx_b, w.webhook.options().clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url_b = format!(
        "http://{}/webhooks/monday/{TOKEN}",
        listener.local_addr().unwrap()
    );
    let app = b.router();
    let server_b = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let n = 20;
    let mut posts = Vec::new();
    for i in 0..n {
        let value = format!("v{i:02}");
        w.change(LEAD, &item, json!({"text_mkry13cw": value})).await;
        // The same change delivered to the other instance too (another subscription).
        let ev = event(
            "update_column_value",
            LEAD,
            item.parse().unwrap(),
            &format!("cccc{i:028}"),
            json!({"columnId": "text_mkry13cw", "value": {"value": value}, "previousValue": null}),
        );
        let (http, url) = (w.http.clone(), url_b.clone());
        posts.push(tokio::spawn(async move {
            http.post(url)
                .json(&ev)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for p in posts {
        assert_eq!(p.await.unwrap(), 200);
    }
    let (id, w_ref) = (&item, &w);
    eventually("all of the item's events handled", || async move {
        let d = w_ref.monday.state().webhooks().deliveries();
        d.iter()
            .filter(|d| is_column_event(&d.body["event"], id, "text_mkry13cw") && d.acknowledged())
            .count()
            >= n
    })
    .await;
    assert_eq!(
        w.record(&record)["FirstName"],
        json!(format!("v{:02}", n - 1))
    );
    let counts = w
        .store
        .retry_counts(time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .await
        .unwrap();
    assert_eq!((counts.due, counts.waiting, counts.dead), (0, 0, 0));
    server_b.abort();
    store_b.close().await;
    w.stop().await;
}

/// A fake chat endpoint that records what it is sent.
async fn fake_chat() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::Json<Value>| {
        let s = s.clone();
        async move {
            s.lock().unwrap().push((uri.path().to_owned(), body.0));
            axum::Json(json!({"ok": true}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

pub async fn failures_go_to_the_retry_queue_and_dead_letters_alert(backend: Backend) {
    use crmmap_emu_salesforce::Fault;
    let (tg, tg_seen) = fake_chat().await;
    let (slack, slack_seen) = fake_chat().await;
    let mut setup = Setup::new(backend);
    setup.client_retries = false;
    setup.options.retry = retry_at_once(2);
    setup.options.alerts = AlertConfig {
        telegram: Some((
            tg,
            SecretString::new("123456:telegram-bot-secret"),
            "-100200".into(),
        )),
        slack: Some(SecretString::new(format!(
            "{slack}/services/T0/B0/slack-secret"
        ))),
    };
    let Some(w) = World::start(setup).await else {
        return;
    };
    let texts = |seen: &Mutex<Vec<(String, Value)>>| -> Vec<String> {
        let seen = seen.lock().unwrap();
        seen.iter().map(|(_, body)| text(&body["text"])).collect()
    };
    let sent = || {
        let tg = texts(&tg_seen);
        assert_eq!(tg, texts(&slack_seen), "both channels get every alert");
        tg
    };
    let queued = |w: &World| {
        let w = w.store.clone();
        async move {
            let far = time::OffsetDateTime::now_utc() + time::Duration::days(1);
            w.retry_counts(far).await.unwrap()
        }
    };
    let (item, record) = w.create_linked(LEAD, "Flaky Org", json!({})).await;

    // Salesforce is down: the event is answered 200 and queued.
    w.sf.state().inject_faults([Fault::ServiceUnavailable]);
    let d = w.set(LEAD, &item, "text_mkry13cw", json!("Queued")).await;
    assert_eq!(
        d.attempt, 0,
        "answered at once, not left to monday's redelivery"
    );
    let counts = queued(&w).await;
    assert_eq!(counts.due + counts.waiting, 1);
    // Still down at the drain: the queue pauses behind the breaker, the item is not charged,
    // and one alert says so.
    w.sf.state().inject_faults([Fault::ServiceUnavailable]);
    let r = w.webhook.drain_retries(10).await.unwrap();
    assert_eq!(
        (r.tried, r.applied, r.released, r.paused.as_deref()),
        (1, 0, 1, Some("salesforce"))
    );
    let pending = w
        .store
        .claim_due_retries(time::OffsetDateTime::now_utc(), 10, Duration::ZERO);
    let pending = pending.await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].item.attempts, 0, "an outage costs no attempt");
    w.store.release_retry(&pending[0]).await.unwrap();
    // A failed probe: still paused, no second alert.
    w.sf.state().inject_faults([Fault::ServiceUnavailable]);
    let r = w.webhook.drain_retries(10).await.unwrap();
    assert_eq!(r.paused.as_deref(), Some("salesforce"));
    let alerts = sent();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert!(
        alerts[0].contains("salesforce is unavailable: the retry queue is paused"),
        "{}",
        alerts[0]
    );
    // It comes back: applied on the next drain, and one alert says it recovered.
    let r = w.webhook.drain_retries(10).await.unwrap();
    assert_eq!((r.claimed, r.applied, r.paused), (1, 1, None));
    assert_eq!(w.record(&record)["FirstName"], "Queued");
    assert!(w.store.open_breakers().await.unwrap().is_empty());
    let alerts = sent();
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    assert!(
        alerts[1].contains("salesforce is available again"),
        "{}",
        alerts[1]
    );

    // A record lock that never clears: rescheduled, then dead-lettered after max_attempts.
    w.sf.state().inject_faults([Fault::UnableToLockRow]);
    w.set(LEAD, &item, "text_mkry13cw", json!("Locked")).await;
    w.sf.state().inject_faults([Fault::UnableToLockRow]);
    let r1 = w.webhook.drain_retries(10).await.unwrap();
    assert_eq!((r1.tried, r1.rescheduled, r1.dead), (1, 1, 0));

    // Meanwhile a validation rule refuses another write: a dead letter at once, no retry.
    w.sf.state().inject_faults([Fault::ValidationRule]);
    w.set(LEAD, &item, "text_mkrym6fa", json!("Refused")).await;
    let counts = queued(&w).await;
    assert_eq!((counts.due + counts.waiting, counts.dead), (1, 1));
    assert_eq!(
        sent().len(),
        2,
        "dead letters are reported by the drain, per burst"
    );

    w.sf.state().inject_faults([Fault::UnableToLockRow]);
    let r2 = w.webhook.drain_retries(10).await.unwrap();
    assert_eq!((r2.tried, r2.dead), (1, 1));
    let dead = w.store.dead_letters(10).await.unwrap();
    assert_eq!(
        dead.iter().map(|d| d.failure).collect::<Vec<_>>(),
        [
            Some(crmmap_store::FailureClass::Transient),
            Some(crmmap_store::FailureClass::Permanent)
        ],
        "newest first"
    );

    // One alert for both dead letters, counted by reason.
    let alerts = sent();
    assert_eq!(alerts.len(), 3, "{alerts:#?}");
    let msg = &alerts[2];
    for want in [
        "2 queued changes gave up (dead letters)",
        "1 × FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "1 × UNABLE_TO_LOCK_ROW",
        &format!("Lead: item {item} on board {LEAD}, record {record}"),
        "crmmap retry --requeue-all",
    ] {
        assert!(msg.contains(want), "{want} in {msg}");
    }
    for secret in [
        "telegram-bot-secret",
        "slack-secret",
        TOKEN,
        "emulator-consumer-secret",
        "http://",
        "https://",
    ] {
        assert!(!msg.contains(secret), "{secret} in {msg}");
    }
    let tg = tg_seen.lock().unwrap().clone();
    assert_eq!(tg[0].0, "/bot123456:telegram-bot-secret/sendMessage");
    assert_eq!(tg[0].1["chat_id"], "-100200");
    // Nothing new: no further alert.
    w.webhook.drain_retries(10).await.unwrap();
    assert_eq!(sent().len(), 3);
    let failed = w
        .store
        .query_log(&crmmap_store::LogFilter {
            failed_only: true,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let reasons: Vec<&str> = failed
        .iter()
        .filter_map(|r| r.entry.reason.as_deref())
        .collect();
    for want in [
        "dead letter: salesforce",
        "retry failed: salesforce",
        "paused: salesforce unavailable",
    ] {
        assert!(
            reasons.iter().any(|r| r.starts_with(want)),
            "{want} in {reasons:#?}"
        );
    }

    // Revived by reason: only the validation failure comes back, and applies now.
    let filter = crmmap_store::RequeueFilter {
        reason: Some("field_custom_validation".into()),
        ..Default::default()
    };
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(w.store.requeue_dead_where(&filter, now).await.unwrap(), 1);
    let r = w.webhook.drain_retries(10).await.unwrap();
    assert_eq!((r.tried, r.applied), (1, 1));
    assert_eq!(w.record(&record)["City"], "Refused");
    assert_eq!(w.store.dead_letters(10).await.unwrap().len(), 1);
    w.stop().await;
}

/// Successful Salesforce writes (creates, updates, upserts, deletes) so far.
fn salesforce_writes(w: &World) -> usize {
    w.sf.state()
        .request_log()
        .iter()
        .filter(|r| {
            matches!(r.method.as_str(), "POST" | "PATCH" | "DELETE")
                && r.kind != EndpointKind::Token
                && (200..300).contains(&r.status)
        })
        .count()
}

pub async fn a_running_migration_causes_no_echo_writes(backend: Backend) {
    let Some(w) = World::start(Setup::new(backend)).await else {
        return;
    };
    let ctx = w.webhook.context().clone();
    let options = crmmap_sync::migrate::MigrateOptions {
        full: true,
        ..Default::default()
    };
    let before = salesforce_writes(&w);
    let report = crmmap_sync::migrate::run(&ctx, &options, &mut crmmap_sync::migrate::NoProgress)
        .await
        .unwrap();
    assert!(report.total().created > 0, "{report:?}");
    settled(&w).await;
    let first_events = w.monday.state().webhooks().deliveries().len();
    assert!(
        first_events >= report.total().created as usize,
        "the migration's writes fired webhooks"
    );
    // Salesforce changes; the next (incremental) run copies them to monday, which fires again.
    let leads: Vec<String> = ctx
        .store
        .links_for_object(&SObjectName::new("Lead"))
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.record_id.to_string())
        .collect();
    assert!(!leads.is_empty());
    for (i, id) in leads.iter().enumerate() {
        w.sf.state().update_record(
            id,
            json!({"FirstName": format!("Changed {i}"), "City": "Oslo"}),
        );
    }
    let before_second = salesforce_writes(&w);
    let again = crmmap_sync::migrate::run(
        &ctx,
        &crmmap_sync::migrate::MigrateOptions::default(),
        &mut crmmap_sync::migrate::NoProgress,
    )
    .await
    .unwrap();
    assert!(again.total().updated > 0, "{again:?}");
    settled(&w).await;
    assert!(w.monday.state().webhooks().deliveries().len() > first_events);
    let writes: Vec<String> =
        w.sf.state()
            .request_log()
            .iter()
            .filter(|r| matches!(r.method.as_str(), "POST" | "PATCH" | "DELETE"))
            .map(|r| format!("{} {} {}", r.method, r.path, r.status))
            .collect();
    assert_eq!(
        salesforce_writes(&w),
        before,
        "echo writes reached salesforce: {writes:#?}\n{:#?}",
        w.log_reasons().await
    );
    let _ = before_second;
    let log = w.log_reasons().await;
    assert!(log.iter().any(|l| l.contains("echo")), "{log:?}");

    // A record the migrator queued for a retry is migrated by the retry drain.
    let id = &leads[0];
    w.sf.state()
        .update_record(id, json!({"FirstName": "Retried"}));
    let now = time::OffsetDateTime::now_utc();
    ctx.store
        .enqueue_retry(
            crmmap_sync::migrate::RETRY_KIND,
            &format!("Lead:{id}"),
            &json!({"object": "Lead", "record_id": id}),
            "monday: unavailable",
            now,
            now,
        )
        .await
        .unwrap();
    let r = w.webhook.drain_retries(10).await.unwrap();
    assert_eq!((r.claimed, r.applied), (1, 1), "{r:?}");
    let link = ctx
        .store
        .link_by_record(
            &SObjectName::new("Lead"),
            &crmmap_ids::RecordId::parse(id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let item = w.monday.state().item(link.item_id.get()).unwrap();
    assert!(
        format!("{:?}", item.values.get("text_mkry13cw")).contains("Retried"),
        "{item:?}"
    );
    settled(&w).await;
    assert_eq!(
        salesforce_writes(&w),
        before,
        "{:#?}",
        w.log_reasons().await
    );
    w.stop().await;
}

pub async fn a_busy_item_queues_the_event_for_later(backend: Backend) {
    let mut setup = Setup::new(backend);
    setup.options.apply_timeout = Duration::from_millis(300);
    let Some(w) = World::start(setup).await else {
        return;
    };
    let (item, record) = w.create_linked(LEAD, "Busy Org", json!({})).await;
    // Changed in the emulator's state directly: the event below is the only delivery.
    w.monday.state().with_account(|a| {
        let it = a.items.get_mut(&item.parse().unwrap()).unwrap();
        it.values.insert("text_mkry13cw".into(), json!("Later"));
    });
    let ev = event(
        "update_column_value",
        LEAD,
        item.parse().unwrap(),
        "bbbb0000bbbb0000bbbb0000bbbb0001",
        json!({"columnId": "text_mkry13cw", "value": {"value": "Later"}, "previousValue": null}),
    );
    // Something else holds the item for longer than the runner waits: the event is answered
    // and queued, not applied and not lost.
    let guard = w
        .store
        .lock_item(bid(LEAD.to_string()), iid(&item))
        .await
        .unwrap();
    let (s, b) = w.post(&ev).await;
    assert_eq!((s, b["outcome"].as_str()), (200, Some("queued")), "{b}");
    assert!(b["detail"].as_str().unwrap().contains("item busy"), "{b}");
    assert_ne!(w.record(&record).get("FirstName"), Some(&json!("Later")));
    guard.release().await.unwrap();
    // The queue applies it once the item is free and the retry is due; monday's
    // redelivery is then a duplicate.
    let mut ctx = w.webhook.context().clone();
    ctx.clock = Arc::new(|| time::OffsetDateTime::now_utc() + time::Duration::minutes(5));
    let later = crmmap_webhook::Webhook::new(ctx, w.webhook.options().clone());
    let report = later.drain_retries(10).await.unwrap();
    assert_eq!((report.claimed, report.applied), (1, 1), "{report:?}");
    assert_eq!(w.record(&record)["FirstName"], "Later");
    let (s, b) = w.post(&ev).await;
    assert_eq!((s, b["outcome"].as_str()), (200, Some("duplicate")), "{b}");
    w.stop().await;
}
