-- A group of new cases as parallel arrays, one element a case, with the ids drawn by group_ids.sql.
INSERT INTO incidents (id, category_code, priority, source, kind, description, lat, lon, cell, location, grid_id,
    community_id, street_id, district_id, outside_m, status, level, assignee_id, handler_id, deadline,
    escalate_at, rework_count, deferred, merged_into, resume_to, duplicate_of, reporter_token_id, created_at,
    updated_at) OVERRIDING SYSTEM VALUE
SELECT id, cat, pri, src, knd, descr, la, lo, cl, ST_SetSRID(ST_MakePoint(lo, la), 4326), g, cm, st, dis, om,
       stat, lvl, asg, hdl, dl, esc, rw, df, mi, rt, dup, rep, ca, ua
FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[],
    $8::float8[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::float8[],
    $15::text[], $16::text[], $17::bigint[], $18::bigint[], $19::timestamptz[], $20::timestamptz[],
    $21::bigint[], $22::bool[], $23::bigint[], $24::text[], $25::bigint[], $26::bigint[], $27::timestamptz[],
    $28::timestamptz[])
    AS t (id, cat, pri, src, knd, descr, la, lo, cl, g, cm, st, dis, om, stat, lvl, asg, hdl, dl, esc, rw, df,
          mi, rt, dup, rep, ca, ua)
