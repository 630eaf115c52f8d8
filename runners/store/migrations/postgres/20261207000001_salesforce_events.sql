-- Salesforce change events: the newest change applied to each record (events of one record
-- apply in commit order, an older one never overwrites a newer value), and the replay id
-- each change-event channel has been applied up to. Keep in step with migrations/sqlite.

CREATE TABLE salesforce_record_positions (
    object          TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    commit_ms       BIGINT NOT NULL,
    transaction_key TEXT NOT NULL,
    sequence        BIGINT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (object, record_id)
);

CREATE TABLE salesforce_replay_checkpoints (
    channel    TEXT PRIMARY KEY NOT NULL,
    replay_id  BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
