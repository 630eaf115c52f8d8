//! `crmmap demo`'s real-time step: a person's Salesforce edit, made through the emulator's
//! control endpoint, reaches the monday board as a change event, through the emulator's
//! EventBridge relay and `POST /events/salesforce` of the demo's server; the time from the
//! Salesforce commit to the monday emulator's receipt of the write comes from the two
//! emulators' own instants.

use std::time::Duration;

use crmmap_emu_monday::RunningEmulator as Monday;
use crmmap_emu_salesforce::RunningEmulator as Salesforce;
use crmmap_emu_salesforce::cdc::RelayOptions;
use crmmap_store::Store;
use serde_json::{Value, json};

/// The bearer token of the demo's events route (not a secret: everything is on loopback).
pub(super) const EVENTS_TOKEN: &str = "demo-events-token-0123456789";

/// The City column of the Lead board (`mappings/lead.crmmap`).
const CITY_COLUMN: &str = "text_mkrym6fa";
const NEW_CITY: &str = "Cedar Park";

/// What the monday board holds in a text column, as text.
fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => m
            .get("text")
            .or_else(|| m.get("value"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

fn shown(s: &str) -> &str {
    if s.is_empty() { "(empty)" } else { s }
}

/// Runs the step; true when the edit reached monday.
pub(super) async fn step(
    salesforce: &Salesforce,
    monday: &Monday,
    store: &Store,
    events_url: String,
) -> Result<bool, String> {
    println!(
        "6. A change in Salesforce reaches monday in real time (change event → EventBridge relay → POST /events/salesforce):"
    );
    let emu = salesforce.state();
    let Some(link) = super::editable_lead(store, salesforce).await? else {
        println!("   no linked Lead to edit");
        return Ok(false);
    };
    let item = link.item_id.get();
    let before = emu
        .record(link.record_id.as_str())
        .and_then(|r| r.get("City").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let relay = emu.start_event_relay(RelayOptions::new(
        events_url,
        EVENTS_TOKEN.to_owned().into(),
    ));
    let (sf_before, monday_before) = (salesforce.counters(), monday.state().counters());
    let log = emu.change_log();
    // A person's edit, through the control endpoint (not crmmap's Salesforce user).
    let edited = reqwest::Client::new()
        .post(format!("{}/__emulator__/records", salesforce.base_url()))
        .json(&json!({"op": "update", "id": link.record_id, "fields": {"City": NEW_CITY}}))
        .send()
        .await
        .map_err(|e| format!("the Salesforce emulator's control endpoint: {e}"))?;
    if !edited.status().is_success() {
        relay.stop();
        return Err(format!(
            "the Salesforce emulator refused the edit: HTTP {}",
            edited.status()
        ));
    }
    let replay = log.latest_replay_id();
    let committed = log.committed_at(replay);
    let delivered = relay.wait_delivered(replay, Duration::from_secs(10)).await;
    relay.stop();
    println!(
        "   Lead {} City {} → {NEW_CITY}, saved by a person in Salesforce",
        link.record_id,
        shown(&before)
    );
    let receipt = committed.and_then(|at| {
        monday
            .state()
            .mutation_receipts()
            .into_iter()
            .filter(|r| r.received >= at)
            .find(|r| r.items.contains(&item))
            .map(|r| r.received - at)
    });
    let now = text(
        monday
            .state()
            .item(item)
            .and_then(|i| i.values.get(CITY_COLUMN).cloned())
            .as_ref(),
    );
    let reached = delivered && now == NEW_CITY && receipt.is_some();
    let (sf_after, monday_after) = (salesforce.counters(), monday.state().counters());
    let reads: u64 = {
        use crmmap_emu_salesforce::EndpointKind::*;
        [Query, QueryMore, QueryAll, Retrieve]
            .into_iter()
            .map(|k| sf_after.get(k) - sf_before.get(k))
            .sum()
    };
    match receipt {
        Some(took) if reached => println!(
            "   item {item} City → {NEW_CITY} on monday: {} monday write, {reads} Salesforce reads, {:.1} ms from the commit to the monday write",
            monday_after.mutations - monday_before.mutations,
            took.as_secs_f64() * 1000.0
        ),
        _ => println!(
            "   item {item} City is {} on monday: the change event did not reach it",
            shown(&now)
        ),
    }
    Ok(reached)
}
