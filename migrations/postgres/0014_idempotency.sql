-- Idempotency keys (issue 19, draft-ietf-httpapi-idempotency-key-header): the first answer to a write
-- sent with an `Idempotency-Key`, kept 24 hours so a retry — after a lost reply, a restart, or on
-- another node — gets that answer again instead of doing the write twice. Keys belong to a principal
-- (`token:ID` or `user:ID`): two callers never see each other's answers. A row with no status is a
-- request still in flight (its claim); a claim left by a node that died is taken over after a lease.
CREATE TABLE idempotency_keys (
    principal    text NOT NULL,
    key          text NOT NULL,
    -- SHA-256 (hex) of the method, the path and the body: the same key with another request is refused.
    request_hash text NOT NULL,
    status       integer,
    content_type text,
    location     text,
    body         text,
    created_at   timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, key)
);
-- Expiry: rows older than 24 hours are pruned.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
