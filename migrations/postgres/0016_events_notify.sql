-- Several nodes on one database (issue 20): every statement that appends events tells the listeners
-- on channel `gridwatch_events` the last seq it appended, delivered when its transaction commits. A
-- hint only: a node reads the log by seq whatever it hears, so a lost notification costs latency,
-- never an event (server/src/follow.rs).
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gridwatch_events', (SELECT max(seq) FROM appended)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
