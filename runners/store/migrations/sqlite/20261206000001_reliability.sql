-- Failure classes of queued work, the retry queue's circuit breakers, and named leases
-- (one migrator at a time). Keep in step with migrations/postgres.

ALTER TABLE retry_queue ADD COLUMN failure TEXT
    CHECK (failure IS NULL OR failure IN ('outage', 'permanent', 'transient'));
-- When a dead letter was reported in an alert (alerts are sent per burst, not per item).
ALTER TABLE retry_queue ADD COLUMN alerted_at TEXT;

CREATE TABLE circuit_breakers (
    api           TEXT PRIMARY KEY NOT NULL,
    reason        TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    next_probe_at TEXT NOT NULL,
    probes        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY NOT NULL,
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- Pending webhook events by board and item (the migrator asks which items of a chunk have a
-- monday edit waiting; see src/queued.rs, whose expressions must stay the same).
CREATE INDEX retry_queue_item ON retry_queue (
    kind,
    CAST(json_extract(payload, '$.event.boardId') AS TEXT),
    CAST(COALESCE(json_extract(payload, '$.event.pulseId'), json_extract(payload, '$.event.itemId')) AS TEXT)
) WHERE status = 'pending';
