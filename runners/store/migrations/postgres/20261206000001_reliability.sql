-- Failure classes of queued work, the retry queue's circuit breakers, and named leases
-- (one migrator at a time). Keep in step with migrations/sqlite.

ALTER TABLE retry_queue ADD COLUMN failure TEXT
    CHECK (failure IS NULL OR failure IN ('outage', 'permanent', 'transient'));
-- When a dead letter was reported in an alert (alerts are sent per burst, not per item).
ALTER TABLE retry_queue ADD COLUMN alerted_at TIMESTAMPTZ;

CREATE TABLE circuit_breakers (
    api           TEXT PRIMARY KEY NOT NULL,
    reason        TEXT NOT NULL,
    opened_at     TIMESTAMPTZ NOT NULL,
    next_probe_at TIMESTAMPTZ NOT NULL,
    probes        BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY NOT NULL,
    holder      TEXT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- Pending webhook events by board and item (the migrator asks which items of a chunk have a
-- monday edit waiting; see src/queued.rs, whose expressions must stay the same).
CREATE INDEX retry_queue_item ON retry_queue (
    kind,
    (payload -> 'event' ->> 'boardId'),
    (COALESCE(payload -> 'event' ->> 'pulseId', payload -> 'event' ->> 'itemId'))
) WHERE status = 'pending';
