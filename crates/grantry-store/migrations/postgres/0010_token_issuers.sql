-- Version 10 (PostgreSQL): who minted a credential, when someone other than its principal did.
-- Such a token decides no access request until its user exchanges it for one of their own.

ALTER TABLE credentials ADD COLUMN issued_by TEXT;

-- Who else could have held a credential's lineage (minted a token exchanged on the way to it), as a
-- JSON list of principals; an approval with it counts for them too.
ALTER TABLE credentials ADD COLUMN custody TEXT;

-- An API key made for a while (a delegation's duration) ends then, whatever is rotated or added.
ALTER TABLE api_keys ADD COLUMN expires_at_us BIGINT;
