-- A page of the chain in order, after row $1: what `audit verify` walks.
SELECT seq, at, actor_kind, actor_id, actor_name, actor_role, address, user_agent, action, target,
    outcome, detail, prev_hash, hash
FROM audit
WHERE seq > $1
ORDER BY seq
LIMIT $2
