-- Held until the transaction ends; taking it again in the same transaction is a no-op.
SELECT pg_advisory_xact_lock($1)
