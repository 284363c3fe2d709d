-- A group of new cases as parallel arrays, one element a case, with the ids drawn by group_ids.sql.
INSERT INTO incidents (id, category_code, priority, source, kind, description, lat, lon, cell, location, grid_id,
    community_id, street_id, district_id, outside_m, reporter_token_id, created_at, status, level,
    assignee_id, handler_id, deadline, escalate_at, rework_count, deferred, merged_into, resume_to,
    duplicate_of, updated_at) OVERRIDING SYSTEM VALUE
SELECT id, cat, pri, src, knd, descr, la, lo, cl, ST_SetSRID(ST_MakePoint(lo, la), 4326), g, cm, st, dis, om,
       rep, ca, stat, lvl, asg, hdl, dl, esc, rw, df, mi, rt, dup, ua
FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[],
    $8::float8[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::float8[],
    $15::bigint[], $16::timestamptz[], $17::text[], $18::text[], $19::bigint[], $20::bigint[],
    $21::timestamptz[], $22::timestamptz[], $23::bigint[], $24::bool[], $25::bigint[], $26::text[],
    $27::bigint[], $28::timestamptz[])
    AS t (id, cat, pri, src, knd, descr, la, lo, cl, g, cm, st, dis, om, rep, ca, stat, lvl, asg, hdl, dl, esc,
          rw, df, mi, rt, dup, ua)
