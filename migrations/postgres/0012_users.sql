-- People with accounts (issue 18): users sign in with a name and a password (Argon2id, a PHC string)
-- and, for the admin and auditor roles, a TOTP code; a session is a row here, and the browser holds
-- only its random id (the row keeps its SHA-256). Never a resident's data.
CREATE TABLE users (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The login name, lower-case.
    name                 text NOT NULL CONSTRAINT users_name_key UNIQUE,
    display_name         text NOT NULL,
    -- People's roles only: reporters and devices are machines and hold tokens.
    role                 text NOT NULL
        CHECK (role IN ('admin', 'planner', 'commander', 'worker', 'auditor')),
    scopes               jsonb NOT NULL DEFAULT '[]',
    worker_id            bigint CONSTRAINT users_worker_id_fkey REFERENCES workers (id),
    password_hash        text NOT NULL,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failed_attempts      integer NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    must_change_password boolean NOT NULL DEFAULT TRUE,
    last_login_at        timestamptz,
    -- RFC 6238 shared secret (base32); the last time step a code was accepted for, so a code is
    -- never accepted twice.
    totp_secret          text,
    totp_last_step       bigint,
    -- Bumped by every change to the account: the credentials watch compares it with what it cached.
    version              bigint NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

CREATE TABLE sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_hash  text NOT NULL CONSTRAINT sessions_session_hash_key UNIQUE,
    csrf_hash     text NOT NULL,
    user_id       bigint NOT NULL CONSTRAINT sessions_user_id_fkey REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    -- The absolute end of the session; the idle timeout counts from last_seen_at.
    expires_at    timestamptz NOT NULL,
    address       text,
    user_agent    text,
    revoked_at    timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);
-- The credentials watch reads recently revoked sessions twice a second.
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
