-- The rows follow as `VALUES (…), (…)`, added by `SqliteDialect::insert_bulk` (`sql/bulk.rs`).
INSERT INTO audit (seq, at, actor_kind, actor_id, actor_name, actor_role, address, user_agent, action,
    target, outcome, detail, prev_hash, hash)
