-- Idempotency keys (issue 19, draft-ietf-httpapi-idempotency-key-header): the first answer to a write
-- sent with an `Idempotency-Key`, kept 24 hours so a retry — after a lost reply, a restart, or on
-- another node — gets that answer again instead of doing the write twice. Keys belong to a principal
-- (`token:ID` or `user:ID`): two callers never see each other's answers. A row with no status is a
-- request still in flight (its claim); a claim left by a node that died is taken over after a lease.
CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    -- SHA-256 (hex) of the method, the path and the body: the same key with another request is refused.
    request_hash TEXT NOT NULL,
    status       INTEGER,
    content_type TEXT,
    location     TEXT,
    body         TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (principal, key)
);
-- Expiry: rows older than 24 hours are pruned.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
