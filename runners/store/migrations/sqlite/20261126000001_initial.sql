-- crmmap state store, SQLite flavour. Times are fixed-width UTC text
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ) so that text order is time order; JSON is text.

CREATE TABLE links (
    board_id   TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    object     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (board_id, item_id),
    UNIQUE (object, record_id)
);

CREATE TABLE synced_values (
    board_id  TEXT NOT NULL,
    item_id   TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    source    TEXT NOT NULL CHECK (source IN ('salesforce', 'monday')),
    synced_at TEXT NOT NULL,
    PRIMARY KEY (board_id, item_id, key),
    FOREIGN KEY (board_id, item_id) REFERENCES links (board_id, item_id) ON DELETE CASCADE
);

CREATE TABLE processed_events (
    trigger_uuid TEXT PRIMARY KEY NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('in_progress', 'applied', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 1,
    detail       TEXT,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);

CREATE TABLE create_intents (
    board_id        TEXT NOT NULL,
    item_id         TEXT NOT NULL,
    object          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
    record_id       TEXT,
    created_at      TEXT NOT NULL,
    completed_at    TEXT,
    PRIMARY KEY (board_id, item_id)
);

CREATE TABLE sync_log (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT NOT NULL,
    runner           TEXT NOT NULL CHECK (runner IN ('migrate', 'webhook', 'retry')),
    object           TEXT,
    board_id         TEXT,
    item_id          TEXT,
    record_id        TEXT,
    trigger_uuid     TEXT,
    action           TEXT NOT NULL CHECK (action IN ('created', 'updated', 'unchanged', 'skipped', 'failed', 'deleted', 'linked', 'parked')),
    reason           TEXT,
    request_summary  TEXT,
    response_summary TEXT
);
CREATE INDEX sync_log_at ON sync_log (at);
CREATE INDEX sync_log_action_at ON sync_log (action, at);

CREATE TABLE watermarks (
    object     TEXT PRIMARY KEY NOT NULL,
    modstamp   TEXT NOT NULL,
    last_id    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE runs (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    options     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    started_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX runs_kind_status ON runs (kind, status);

CREATE TABLE run_objects (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    object     TEXT NOT NULL,
    phase      TEXT NOT NULL,
    position   TEXT,
    counts     TEXT NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, object)
);

CREATE TABLE parked_links (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    object           TEXT NOT NULL,
    record_id        TEXT NOT NULL,
    column_id        TEXT NOT NULL,
    target_object    TEXT NOT NULL,
    target_record_id TEXT NOT NULL,
    reason           TEXT NOT NULL,
    parked_at        TEXT NOT NULL,
    UNIQUE (object, record_id, column_id, target_record_id)
);
CREATE INDEX parked_links_target ON parked_links (target_object, target_record_id);

CREATE TABLE retry_queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    dedup_key       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    last_error      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'dead')),
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT,
    claim_token     INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (kind, dedup_key)
);
CREATE INDEX retry_queue_due ON retry_queue (status, next_attempt_at);
