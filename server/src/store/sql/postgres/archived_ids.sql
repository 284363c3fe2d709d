-- The archived cases (closed, cancelled or merged, last changed before $1) that pass every filter
-- given (a NULL parameter is no filter), newest first, at most $19, each with how many match in all.
-- Lists are JSON arrays. $20, $21: the words of a text search (`store::search::TextQuery::binds`).
-- See `store::ArchiveQuery`.
SELECT id, COUNT(*) OVER () AS total
FROM incidents
WHERE status IN ('closed', 'cancelled', 'merged') AND updated_at < $1
    AND ($2 IS NULL OR grid_id = $2)
    AND ($3 IS NULL OR community_id = $3 OR street_id = $3 OR district_id = $3)
    AND ($4 IS NULL OR status IN (SELECT jsonb_array_elements_text(CAST($4 AS jsonb))))
    AND ($5 IS NULL OR category_code IN (SELECT jsonb_array_elements_text(CAST($5 AS jsonb))))
    AND ($6 IS NULL OR assignee_id = $6)
    AND ($7 IS NULL OR (lon BETWEEN $7 AND $9 AND lat BETWEEN $8 AND $10))
    AND ($11 IS NULL
        OR grid_id IN (SELECT CAST(jsonb_array_elements_text(CAST($11 AS jsonb)) AS bigint))
        OR assignee_id = $12 OR handler_id = $12 OR reporter_token_id = $13)
    AND ($14 IS NULL OR created_at >= $14)
    AND ($15 IS NULL OR created_at <= $15)
    AND ($16 IS NULL OR updated_at >= $16 OR deadline >= $16)
    AND ($17 IS NULL OR id IN (SELECT incident_id FROM incident_photos WHERE sha256 = $17))
    AND ($18 IS NULL OR source = $18)
    AND ($20 IS NULL OR description ILIKE $20)
    AND ($21 IS NULL OR NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(CAST($21 AS jsonb)) AS p (pattern)
        WHERE incidents.description NOT ILIKE p.pattern))
ORDER BY id DESC
LIMIT $19
