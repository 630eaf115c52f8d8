//! Change Data Capture: every create, update, delete and undelete of the org becomes a change
//! event (realtime-and-limits.md §1a header, §1b body) in the [`ChangeLog`], which subscribers
//! read by replay id and count their deliveries against (§1d); gap and overflow events can be
//! injected (§1c).
//!
//! The store journals each write ([`crate::store::Mutation`]); when the org's lock is
//! released, the journal becomes events of one transaction ([`commit`]). Who committed them
//! comes from the request: a REST call runs as the integration user, with `changeOrigin`
//! `com/salesforce/api/rest/<version>;client=<Sforce-Call-Options client>`; anything else
//! (the control surface, over HTTP or Rust) runs as a separate person user with an empty
//! origin, so a runner can tell its own echoes from people's edits by `commitUser`.

mod allocation;
mod body;
pub(crate) mod control;
mod entity;
mod envelope;
mod event;
mod guard;
mod log;
mod org;
mod relay;

use std::cell::Cell;
use std::future::Future;

use time::OffsetDateTime;

pub use allocation::{DeliveryAllocation, Exceeded};
pub use body::DateForm;
pub use entity::{EntitySchema, EventField};
pub use envelope::{EnvelopeSource, envelope};
pub use event::{ChangeEvent, ChangeEventHeader, ChangeType, LoggedEvent, change_event_name};
pub(crate) use guard::OrgGuard;
pub use log::{ChangeLog, ReplayTooOld, Retention};
pub use relay::{EventRelay, RelayOptions, RelayStatus, RelaySwitches};

use crate::store::{Mutation, MutationKind};

/// The person who edits records through the control surface (a user other than the
/// integration user, whose id is `Store::user_id`).
pub fn person_user_id() -> String {
    crate::ids::to18("0055g00000PeRsN").unwrap_or_default()
}

/// A datetime as the update captures show it: `2025-04-24T13:18:26.000Z` (§1b).
pub(crate) fn iso_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// The transaction of one REST request: its origin, key and next sequence number.
pub(crate) struct RequestTransaction {
    origin: String,
    key: String,
    next_sequence: Cell<u32>,
}

tokio::task_local! {
    static REQUEST: RequestTransaction;
}

/// The `client=` part of an `Sforce-Call-Options` header (`client=<id>[, defaultNamespace=…]`).
fn call_options_client(opts: &str) -> Option<String> {
    opts.split(',')
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("client"))
        .map(|(_, v)| v.trim().to_string())
}

/// Runs `f` (a REST request's handling) as the integration user: the changes it makes are
/// one transaction with `changeOrigin` `com/salesforce/api/rest/<version>;client=<client>`
/// (§1a; without a `client=` in `Sforce-Call-Options`, the `;client=` part is left out).
pub(crate) fn as_api_request<F: Future>(
    version: &str,
    call_options: Option<&str>,
    f: F,
) -> impl Future<Output = F::Output> {
    let version = version.trim_start_matches('v');
    let client = call_options.and_then(call_options_client);
    let origin = match client {
        Some(c) => format!("com/salesforce/api/rest/{version};client={c}"),
        None => format!("com/salesforce/api/rest/{version}"),
    };
    REQUEST.scope(
        RequestTransaction {
            origin,
            key: uuid::Uuid::new_v4().to_string(),
            next_sequence: Cell::new(1),
        },
        f,
    )
}

/// Turns journaled writes into change events and appends them to `log`: one transaction (one
/// key, one commit number and time, sequence numbers in write order). Inside a REST request
/// the transaction is the request's and the user is `integration_user`; elsewhere it is new
/// and the user is the person user.
pub(crate) fn commit(log: &ChangeLog, journal: Vec<Mutation>, integration_user: &str) {
    if journal.is_empty() {
        return;
    }
    let n = u32::try_from(journal.len()).unwrap_or(u32::MAX);
    let (origin, key, first, user) = REQUEST
        .try_with(|r| {
            let first = r.next_sequence.get();
            r.next_sequence.set(first.saturating_add(n));
            (
                r.origin.clone(),
                r.key.clone(),
                first,
                integration_user.to_string(),
            )
        })
        .unwrap_or_else(|_| {
            (
                String::new(),
                uuid::Uuid::new_v4().to_string(),
                1,
                person_user_id(),
            )
        });
    let commit_number = log.next_commit_number();
    let commit_timestamp = log.now_ms();
    let dates = log.date_form();
    let mut events = Vec::new();
    // Sequence numbers count every write, so an entity not selected leaves a gap (§1a).
    for (sequence, m) in (first..).zip(journal) {
        let Some(schema) = log.entity_schema(&m.object) else {
            continue;
        };
        let change_type = match m.kind {
            MutationKind::Create => ChangeType::Create,
            MutationKind::Update => ChangeType::Update,
            MutationKind::Delete => ChangeType::Delete,
            MutationKind::Undelete => ChangeType::Undelete,
        };
        let body = body::of(change_type, &schema, m.before.as_ref(), &m.after, dates);
        events.push(ChangeEvent {
            event_uuid: uuid::Uuid::new_v4().to_string(),
            header: ChangeEventHeader {
                entity_name: schema.entity.clone(),
                record_ids: vec![m.id],
                change_type,
                change_origin: origin.clone(),
                transaction_key: key.clone(),
                sequence_number: sequence,
                commit_timestamp,
                commit_number,
                commit_user: user.clone(),
                changed_fields: body.changed_fields,
                nulled_fields: body.nulled_fields,
                diff_fields: Vec::new(),
            },
            fields: body.fields,
        });
    }
    log.append(events);
}

/// A gap (`GAP_CREATE` … `GAP_UNDELETE`, for `record_ids`) or `GAP_OVERFLOW` (no record ids)
/// event of `entity`, as Salesforce sends them (§1c): header and ids, every body field null.
/// `None` when `entity` is unknown, `change_type` is not a gap type, or an overflow is given
/// record ids.
pub fn gap_event(
    log: &ChangeLog,
    entity: &str,
    change_type: ChangeType,
    record_ids: Vec<String>,
    commit_user: &str,
) -> Option<ChangeEvent> {
    if !change_type.is_gap() || (change_type == ChangeType::GapOverflow) != record_ids.is_empty() {
        return None;
    }
    let schema = log.entity_schema(entity)?;
    let body = body::nulls(&schema);
    Some(ChangeEvent {
        event_uuid: uuid::Uuid::new_v4().to_string(),
        header: ChangeEventHeader {
            entity_name: schema.entity.clone(),
            record_ids,
            change_type,
            change_origin: String::new(),
            transaction_key: uuid::Uuid::new_v4().to_string(),
            sequence_number: 1,
            commit_timestamp: log.now_ms(),
            commit_number: log.next_commit_number(),
            commit_user: commit_user.to_string(),
            changed_fields: Vec::new(),
            nulled_fields: Vec::new(),
            diff_fields: Vec::new(),
        },
        fields: body.fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_comes_from_the_call_options() {
        assert_eq!(
            call_options_client("client=crmmap, defaultNamespace=npe01").as_deref(),
            Some("crmmap")
        );
        assert_eq!(call_options_client("defaultNamespace=x"), None);
        assert_eq!(call_options_client(""), None);
    }

    proptest::proptest! {
        /// Any header value (it comes from the caller) is read without a panic, and a
        /// `client=` part is found wherever it is.
        #[test]
        fn any_call_options_are_read(
            before in "[ -~]{0,20}",
            client in "[A-Za-z0-9_/]{1,12}",
            after in "[ -~]{0,20}",
        ) {
            let _ = call_options_client(&before);
            let header = format!("a=b,client={client},{after}");
            proptest::prop_assert_eq!(call_options_client(&header), Some(client));
        }
    }
}
