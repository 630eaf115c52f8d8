//! A monday edit waiting in the retry queue meets the migrator: the field's conflict policy
//! decides whether the migration overwrites it (`prefer salesforce`; `newest` when the
//! Salesforce edit is the later one) or leaves it for the queued event, which then writes it
//! to Salesforce (`prefer monday`; `newest` when the monday edit is the later one).

use std::sync::Arc;
use std::time::Duration;

use crmmap_dsl::model::ConflictPolicy;
use crmmap_store::Backend;
use crmmap_sync::migrate::{self, MigrateOptions, NoProgress};
use serde_json::{Value, json};

use crate::harness::*;

crmmap_testkit::backend_tests!(
    queued_edits;
    a_queued_monday_edit_meets_the_migrator_by_its_conflict_policy,
);

const FIRST_NAME: &str = "text_mkry13cw";

fn on_monday(w: &World, item: &str) -> Value {
    let id = item.parse().expect("numeric item id");
    w.monday
        .state()
        .item(id)
        .and_then(|i| i.values.get(FIRST_NAME).cloned())
        .unwrap_or(Value::Null)
}

fn shows(v: &Value, text: &str) -> bool {
    v == &json!(text) || v.get("text") == Some(&json!(text)) || v.to_string().contains(text)
}

/// One run: the FirstName policy (`None`: the mapping's own, `prefer salesforce`), whether
/// the monday edit is the later of the two, and whether monday's value wins.
struct Case {
    policy: Option<ConflictPolicy>,
    monday_later: bool,
    prefer_monday: bool,
}

/// `triggerTime` as monday writes it (RFC 3339, UTC).
fn trigger_time(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats")
}

pub async fn a_queued_monday_edit_meets_the_migrator_by_its_conflict_policy(backend: Backend) {
    let cases = [
        Case {
            policy: Some(ConflictPolicy::PreferMonday),
            monday_later: false,
            prefer_monday: true,
        },
        Case {
            policy: None,
            monday_later: true,
            prefer_monday: false,
        },
        Case {
            policy: Some(ConflictPolicy::PreferNewest),
            monday_later: true,
            prefer_monday: true,
        },
        Case {
            policy: Some(ConflictPolicy::PreferNewest),
            monday_later: false,
            prefer_monday: false,
        },
    ];
    for case in cases {
        let prefer_monday = case.prefer_monday;
        let mut setup = Setup::new(backend);
        setup.options.apply_timeout = Duration::from_millis(300);
        if let Some(policy) = case.policy {
            let lead = setup
                .plans
                .plans
                .iter_mut()
                .find(|p| p.object == "Lead")
                .expect("lead plan");
            for f in lead.fields.iter_mut().filter(|f| f.field == "FirstName") {
                f.conflict = policy;
            }
        }
        let Some(w) = World::start(setup).await else {
            return;
        };
        let ctx = w.webhook.context().clone();
        // The first migration links the selected leads to items and remembers their values.
        let first = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
            .await
            .expect("first migration");
        assert!(first.total().created > 0, "{first:?}");
        settled(&w).await;
        let link = w.linked_lead(false).await;
        let (item, record) = (link.item_id.to_string(), link.record_id.to_string());

        let salesforce_edit = || {
            w.sf.state()
                .update_record(&record, json!({"FirstName": "From Salesforce"}))
        };
        // Both sides change the field after the sync; the later edit comes second: a
        // Salesforce edit first is stamped (LastModifiedDate) before the monday edit's
        // triggerTime, one second later.
        let monday_at = if case.monday_later {
            assert!(salesforce_edit());
            time::OffsetDateTime::now_utc() + time::Duration::seconds(1)
        } else {
            time::OffsetDateTime::now_utc() - time::Duration::seconds(1)
        };
        // A person edits FirstName on monday; its event finds the item busy and is queued.
        w.monday.state().with_account(|a| {
            let it = a.items.get_mut(&item.parse().unwrap()).unwrap();
            it.values.insert(FIRST_NAME.into(), json!("From Monday"));
        });
        let ev = event(
            "update_column_value",
            LEAD,
            item.parse().unwrap(),
            "cccc0000cccc0000cccc0000cccc0001",
            json!({
                "columnId": FIRST_NAME, "value": {"value": "From Monday"}, "previousValue": null,
                "triggerTime": trigger_time(monday_at),
            }),
        );
        let guard = w
            .store
            .lock_item(bid(LEAD.to_string()), iid(&item))
            .await
            .unwrap();
        let (s, b) = w.post(&ev).await;
        assert_eq!((s, b["outcome"].as_str()), (200, Some("queued")), "{b}");
        guard.release().await.unwrap();
        if !case.monday_later {
            // Meanwhile the same field changes in Salesforce: both sides changed since the sync.
            assert!(salesforce_edit());
        }

        // The scheduled migration runs before the queue is drained.
        let second = migrate::run(&ctx, &MigrateOptions::default(), &mut NoProgress)
            .await
            .expect("second migration");
        settled(&w).await;
        let after_migration = on_monday(&w, &item);
        let log = w.log_reasons().await;
        let left_for_queue = log
            .iter()
            .any(|l| l.contains("wait in the retry queue and win their conflict"));
        assert_eq!(left_for_queue, prefer_monday, "{log:?}");
        if prefer_monday {
            assert!(
                shows(&after_migration, "From Monday"),
                "the migrator overwrote a queued monday edit: {after_migration} ({second:?})"
            );
            assert!(
                log.iter().any(|l| l.contains(&format!(
                    "monday edits of {FIRST_NAME} wait in the retry queue and win their conflict"
                ))),
                "{log:?}"
            );
        } else {
            assert!(
                shows(&after_migration, "From Salesforce"),
                "salesforce wins: the migrator writes as usual: {after_migration}"
            );
        }

        // The queue replays the edit once it is due.
        let mut later = ctx.clone();
        later.clock = Arc::new(|| time::OffsetDateTime::now_utc() + time::Duration::minutes(5));
        let drained = crmmap_webhook::Webhook::new(later, w.webhook.options().clone());
        drained.drain_retries(10).await.unwrap();
        settled(&w).await;
        let far = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        let counts = w.store.retry_counts(far).await.unwrap();
        assert_eq!((counts.due, counts.waiting, counts.dead), (0, 0, 0));
        let expected = if prefer_monday {
            "From Monday"
        } else {
            "From Salesforce"
        };
        assert_eq!(w.record(&record)["FirstName"], expected, "{log:?}");
        assert!(shows(&on_monday(&w, &item), expected));
        w.stop().await;
    }
}
