-- Audit rows as parallel arrays, one element a row, already chained (`audit::chain`).
INSERT INTO audit (seq, at, actor_kind, actor_id, actor_name, actor_role, address, user_agent, action,
    target, outcome, detail, prev_hash, hash)
SELECT *
FROM UNNEST($1::bigint[], $2::timestamptz[], $3::text[], $4::bigint[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
