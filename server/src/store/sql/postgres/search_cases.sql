-- Every case (open, finished or archived) whose description holds every word of a search
-- (`store::search`), that a scoped reader may see, newest first. $1: the ILIKE pattern of the longest
-- word, answered by the pg_trgm index (migration 0020); $2: a JSON array of ILIKE patterns for the
-- other words. $3-$5: the reader (`store::Seer`: its grids as a JSON array, its worker, its token);
-- NULL $3 for an unscoped reader. $6: at most this many.
SELECT id
FROM incidents
WHERE ($1 IS NULL OR description ILIKE $1)
    AND ($2 IS NULL OR NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(CAST($2 AS jsonb)) AS p (pattern)
        WHERE incidents.description NOT ILIKE p.pattern))
    AND ($3 IS NULL
        OR grid_id IN (SELECT CAST(jsonb_array_elements_text(CAST($3 AS jsonb)) AS bigint))
        OR assignee_id = $4 OR handler_id = $4 OR reporter_token_id = $5)
ORDER BY id DESC
LIMIT $6
