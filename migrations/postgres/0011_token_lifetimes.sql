-- Tokens behave like credentials (issue 18): an expiry, the first characters of the secret to tell
-- tokens apart in a list (never enough to use one), the token that minted it, and when it was last used.
-- Tokens minted before this migration expire 90 days from now rather than at once.
ALTER TABLE tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE tokens ADD COLUMN prefix text;
ALTER TABLE tokens ADD COLUMN created_by bigint CONSTRAINT tokens_created_by_fkey REFERENCES tokens (id);
ALTER TABLE tokens ADD COLUMN last_used_at timestamptz;
UPDATE tokens SET expires_at = date_trunc('milliseconds', now()) + interval '90 days';
-- The revocation watch reads the revoked tokens twice a second.
CREATE INDEX tokens_revoked ON tokens (id) WHERE revoked_at IS NOT NULL;
