-- no-transaction
-- The audit trail (安全审计, issue 18), and tokens that may carry the auditor role (a log shipper that
-- reads the trail; minted only from the command line). SQLite cannot change a CHECK constraint in place,
-- so the tokens table is rebuilt by the documented procedure: foreign keys off, copy, swap, check, on.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE tokens_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL
        CHECK (role IN ('admin', 'planner', 'commander', 'worker', 'reporter', 'device', 'auditor')),
    scopes       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scopes)),
    worker_id    INTEGER REFERENCES workers (id),
    label        TEXT,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    expires_at   TEXT,
    prefix       TEXT,
    created_by   INTEGER REFERENCES tokens (id),
    last_used_at TEXT
);
INSERT INTO tokens_new (id, token_hash, role, scopes, worker_id, label, created_at, revoked_at,
    expires_at, prefix, created_by, last_used_at)
SELECT id, token_hash, role, scopes, worker_id, label, created_at, revoked_at, expires_at, prefix,
    created_by, last_used_at
FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_revoked ON tokens (id) WHERE revoked_at IS NOT NULL;

-- One row per thing done: every committed change (written in its transaction), every refusal and
-- every authentication outcome. Hash-chained: `hash` is the SHA-256 of `prev_hash` and the row's fields
-- (`audit.rs`), `prev_hash` the previous row's `hash` (the anchor's for the first row kept).
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('token', 'user', 'device', 'system', 'anonymous')),
    actor_id   INTEGER,
    actor_name TEXT,
    actor_role TEXT,
    address    TEXT,
    user_agent TEXT,
    action     TEXT NOT NULL,
    target     TEXT,
    outcome    TEXT NOT NULL,
    detail     TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);

-- Where the kept chain starts: the last row retention removed (seq 0 and 64 zeros at first). It only
-- moves forward, only onto a row that exists with the hash it has, and only onto rows at least 180 days
-- old; rows at or below it are the only ones that may be deleted, and no row may be changed.
CREATE TABLE audit_anchor (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_anchor (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_no_early_delete BEFORE DELETE ON audit
WHEN OLD.seq > (SELECT seq FROM audit_anchor)
BEGIN
    SELECT RAISE(ABORT, 'audit rows are removed only by retention, behind the anchor');
END;
CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN NEW.seq < OLD.seq
    OR NEW.hash IS NOT (SELECT hash FROM audit WHERE seq = NEW.seq)
    OR (SELECT at FROM audit WHERE seq = NEW.seq)
        > strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-180 days')
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor moves only forward, onto a kept row at least 180 days old');
END;
CREATE TRIGGER audit_anchor_kept BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor is kept');
END;

PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
