-- Tokens behave like credentials (issue 18): an expiry, the first characters of the secret to tell
-- tokens apart in a list (never enough to use one), the token that minted it, and when it was last used.
-- Tokens minted before this migration expire 90 days from now rather than at once.
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN prefix TEXT;
ALTER TABLE tokens ADD COLUMN created_by INTEGER REFERENCES tokens (id);
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
UPDATE tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '+90 days');
-- The revocation watch reads the revoked tokens twice a second.
CREATE INDEX tokens_revoked ON tokens (id) WHERE revoked_at IS NOT NULL;
