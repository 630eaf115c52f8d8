//! End-to-end tests of the webhook runner over HTTP against both emulators: every scenario
//! runs on a fresh SQLite file and, when `CRMMAP_TEST_POSTGRES_URL` is set, on a fresh
//! PostgreSQL database.

mod authority;
mod boundaries;
mod conditional;
mod converted;
mod crash;
mod faults;
mod harness;
mod queued_edits;
mod salesforce_events;
mod salesforce_pubsub;
mod salesforce_relay;
mod soak;
mod suite;

crmmap_testkit::backend_tests!(
    suite;
    requests_are_authenticated_and_validated,
    signed_requests_verify_and_forged_ones_are_refused,
    the_jwt_audience_is_checked_when_the_public_url_is_set,
    every_event_type_for_every_object,
    duplicate_deliveries_change_nothing,
    events_sharing_an_original_trigger_are_all_applied,
    a_column_change_costs_one_read_and_one_write,
    crmmap_echoes_are_not_written_back,
    own_user_events_are_skipped_without_calls,
    conflicts_follow_the_policy,
    delete_policies,
    board_relation_changes_set_the_reference,
    qualified_lead_creates_its_records_once,
    concurrent_events_for_one_item_apply_in_order,
    a_busy_item_queues_the_event_for_later,
    failures_go_to_the_retry_queue_and_dead_letters_alert,
    a_running_migration_causes_no_echo_writes,
);
