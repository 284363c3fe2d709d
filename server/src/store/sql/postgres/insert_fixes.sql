-- A chunk of position fixes as parallel arrays, one element a fix; $3 is the batch's receipt time.
INSERT INTO positions (worker_id, at, received_at, lat, lon, location, accuracy_m, speed_mps, heading_deg,
    altitude_m, battery_pct, moving, flags, attributes)
SELECT w, a, $3, la, lo, ST_SetSRID(ST_MakePoint(lo, la), 4326), acc, spd, hd, alt, bat, mv, fl::jsonb,
       att::jsonb
FROM UNNEST($1::bigint[], $2::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
    $8::float8[], $9::float8[], $10::float8[], $11::bool[], $12::text[], $13::text[])
    AS t (w, a, la, lo, acc, spd, hd, alt, bat, mv, fl, att)
