-- The id of the transaction in progress (`Dialect::transaction_id`), read before its COMMIT.
SELECT pg_current_xact_id()::text::bigint
