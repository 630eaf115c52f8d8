//! The store test suite: every test in `suite` runs against a fresh SQLite file and,
//! when `CRMMAP_TEST_POSTGRES_URL` is set, against a fresh PostgreSQL database.

mod batch_reads;
mod harness;
mod lease;
mod queued;
mod retried;
mod salesforce_events;
mod suite;

crmmap_testkit::backend_tests!(
    suite with crate::harness::TestDb;
    migrations_apply_again_on_reconnect,
    links_upsert_and_lookup_both_ways,
    unparsable_stored_record_ids_read_as_corrupt,
    link_conflicts_and_repointing,
    synced_values_set_many_and_read_back,
    synced_values_round_trip_exactly,
    event_dedup_exactly_one_starts_under_concurrency,
    event_failed_or_stale_is_taken_over,
    item_event_writes_its_outcome_in_one_commit,
    item_event_dropped_unfinished_frees_the_item,
    item_events_of_one_item_apply_one_at_a_time,
    old_events_and_log_rows_are_pruned,
    skipped_event_is_recorded_once_with_its_log_row,
    sqlite_log_is_checkpointed_in_the_background,
    create_intent_survives_a_crash,
    item_lock_excludes_across_stores,
    item_lock_serves_waiters_in_order,
    item_lock_waiters_do_not_starve_the_holder,
    item_lock_dropped_guard_frees_the_item,
    sync_log_filters_newest_first,
    sync_log_scrubs_secrets,
    watermark_keeps_ties_by_id,
    checkpoints_resume_after_a_crash,
    parked_links_wait_for_their_target,
    retry_backoff_and_dead_letter,
    retry_concurrent_claimers_never_share_an_item,
    retry_expired_claim_is_lost,
    retry_charges_only_items_really_tried,
    retry_dead_letters_requeued_by_filter,
    breaker_opens_once_and_closes_once,
    url_password_never_shown,
);
