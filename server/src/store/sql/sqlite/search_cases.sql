-- Every case (open, finished or archived) whose description holds every word of a search
-- (`store::search`), that a scoped reader may see, newest first. $1: an FTS5 query of the words of three
-- or more characters, answered by the trigram index (migration 0020); $2: a JSON array of LIKE patterns
-- for the shorter words. $3-$5: the reader (`store::Seer`: its grids as a JSON array, its worker, its
-- token); NULL $3 for an unscoped reader. $6: at most this many.
SELECT id
FROM incidents
WHERE ($1 IS NULL OR id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH $1))
    AND ($2 IS NULL OR NOT EXISTS (
        SELECT 1 FROM json_each($2) AS p WHERE incidents.description NOT LIKE p.value ESCAPE '\'))
    AND ($3 IS NULL OR grid_id IN (SELECT value FROM json_each($3))
        OR assignee_id = $4 OR handler_id = $4 OR reporter_token_id = $5)
ORDER BY id DESC
LIMIT $6
