-- Version 10 (PostgreSQL): who minted a credential, when someone other than its principal did.
-- Such a token decides no access request until its user exchanges it for one of their own.

ALTER TABLE credentials ADD COLUMN issued_by TEXT;

-- An API key made for a while (a delegation's duration) ends then, whatever is rotated or added.
ALTER TABLE api_keys ADD COLUMN expires_at_us BIGINT;
