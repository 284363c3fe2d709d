-- People with accounts (issue 18): users sign in with a name and a password (Argon2id, a PHC string)
-- and, for the admin and auditor roles, a TOTP code; a session is a row here, and the browser holds
-- only its random id (the row keeps its SHA-256). Never a resident's data.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The login name, lower-case.
    name                 TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    -- People's roles only: reporters and devices are machines and hold tokens.
    role                 TEXT NOT NULL
        CHECK (role IN ('admin', 'planner', 'commander', 'worker', 'auditor')),
    scopes               TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scopes)),
    worker_id            INTEGER REFERENCES workers (id),
    password_hash        TEXT NOT NULL,
    status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failed_attempts      INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    last_login_at        TEXT,
    -- RFC 6238 shared secret (base32); the last time step a code was accepted for, so a code is
    -- never accepted twice.
    totp_secret          TEXT,
    totp_last_step       INTEGER,
    -- Bumped by every change to the account: the credentials watch compares it with what it cached.
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    session_hash  TEXT NOT NULL UNIQUE,
    csrf_hash     TEXT NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    -- The absolute end of the session; the idle timeout counts from last_seen_at.
    expires_at    TEXT NOT NULL,
    address       TEXT,
    user_agent    TEXT,
    revoked_at    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
-- The credentials watch reads recently revoked sessions twice a second.
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
