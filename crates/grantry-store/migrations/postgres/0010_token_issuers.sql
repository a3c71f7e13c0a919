-- Version 10 (PostgreSQL): who minted a credential, when someone other than its principal did.
-- Such a token decides no access request until its user exchanges it for one of their own.

ALTER TABLE credentials ADD COLUMN issued_by TEXT;
