-- Rows in [$1, $2), optionally by one actor (its name or id) and one action, oldest first, after row $5.
SELECT seq, at, actor_kind, actor_id, actor_name, actor_role, address, user_agent, action, target,
    outcome, detail, prev_hash, hash
FROM audit
WHERE at >= $1 AND at < $2
    AND (CAST($3 AS TEXT) IS NULL OR actor_name = $3 OR CAST(actor_id AS TEXT) = $3)
    AND (CAST($4 AS TEXT) IS NULL OR action = $4)
    AND seq > $5
ORDER BY seq
LIMIT $6
