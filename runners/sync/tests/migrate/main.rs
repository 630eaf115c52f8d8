//! End-to-end tests of the migrator over HTTP against both emulators, each on SQLite and, when
//! `CRMMAP_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database.

mod harness;
mod inactive;
mod lease;
mod limits;
mod suite;

crmmap_testkit::backend_tests!(
    suite, worker_threads = 2;
    first_run_writes_every_mapped_field,
    rerun_without_changes_writes_nothing,
    incremental_run_writes_only_changed_records,
    stopped_run_resumes_from_its_checkpoint,
    killed_run_resumes_without_duplicates,
    existing_items_are_linked_not_duplicated,
    parked_links_are_completed_by_a_later_run,
    a_failing_record_does_not_stop_the_run,
    dry_run_writes_nothing,
    unknown_object_is_refused,
    records_stamped_ahead_do_not_hide_later_changes,
    survives_transient_api_errors,
    paces_to_a_small_complexity_budget,
    secrets_stay_out_of_logs_and_errors,
    records_deleted_in_salesforce_follow_the_policy,
    an_object_named_apart_from_its_sobject_keeps_one_item_per_record,
    create_batch_applied_then_500_leaves_one_item_per_record,
    create_batch_applied_then_dropped_leaves_one_item_per_record,
    create_batch_failing_at_a_later_alias_leaves_one_item_per_record,
    writes_applied_then_failed_throughout_leave_one_item_per_record,
);
