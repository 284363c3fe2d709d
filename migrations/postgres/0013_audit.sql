-- The audit trail (安全审计, issue 18), and tokens that may carry the auditor role (a log shipper that
-- reads the trail; minted only from the command line).
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('admin', 'planner', 'commander', 'worker', 'reporter', 'device', 'auditor'));

-- One row per thing done: every committed change (written in its transaction), every refusal and
-- every authentication outcome. Hash-chained: `hash` is the SHA-256 of `prev_hash` and the row's fields
-- (`audit.rs`), `prev_hash` the previous row's `hash` (the anchor's for the first row kept).
CREATE TABLE audit (
    seq        bigint PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('token', 'user', 'device', 'system', 'anonymous')),
    actor_id   bigint,
    actor_name text,
    actor_role text,
    address    text,
    user_agent text,
    action     text NOT NULL,
    target     text,
    outcome    text NOT NULL,
    detail     text,
    prev_hash  text NOT NULL,
    hash       text NOT NULL
);
CREATE INDEX audit_at ON audit (at);

-- Where the kept chain starts: the last row retention removed (seq 0 and 64 zeros at first). It only
-- moves forward, only onto a row that exists with the hash it has, and only onto rows at least 180 days
-- old; rows at or below it are the only ones that may be deleted, and no row may be changed.
CREATE TABLE audit_anchor (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_anchor (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'the audit trail is append-only';
    END IF;
    IF OLD.seq > (SELECT seq FROM audit_anchor) THEN
        RAISE EXCEPTION 'audit rows are removed only by retention, behind the anchor';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER audit_guarded BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_guard();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

CREATE FUNCTION audit_anchor_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit anchor is kept';
    END IF;
    IF NEW.seq < OLD.seq
        OR NEW.hash IS DISTINCT FROM (SELECT hash FROM audit WHERE seq = NEW.seq)
        OR (SELECT at FROM audit WHERE seq = NEW.seq) > now() - interval '180 days' THEN
        RAISE EXCEPTION 'the audit anchor moves only forward, onto a kept row at least 180 days old';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_anchor_guarded BEFORE UPDATE OR DELETE ON audit_anchor
    FOR EACH ROW EXECUTE FUNCTION audit_anchor_guard();
