-- History entries of one or more cases as parallel arrays, one element an entry (`sql/bulk.rs`).
INSERT INTO incident_history (incident_id, position, at, actor_worker_id, actor_role, action, from_status,
    to_status, note, detail)
SELECT i, p, a, w, r, act, fs, ts, n, d::jsonb
FROM UNNEST($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::text[]) AS t (i, p, a, w, r, act, fs, ts, n, d)
