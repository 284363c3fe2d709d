-- What became of transaction $1 (`Dialect::commit_status`): committed, aborted, in progress.
SELECT pg_xact_status($1::bigint::text::xid8)
