-- Replay (回放, issue 21): the map at a past moment. `events_at` finds the last event committed by a
-- moment; a keyframe is the map (open cases, workers, cameras) at one seq, gzipped JSON, written by
-- server/src/replay/keyframes.rs. Derived data: every row can be rebuilt from the log and the first
-- keyframe. The same tables as migrations/sqlite/0017_replay.sql.
CREATE INDEX events_at ON events (at);

CREATE TABLE replay_keyframes (
    seq   bigint PRIMARY KEY,
    at    timestamptz NOT NULL,
    state bytea NOT NULL
);
