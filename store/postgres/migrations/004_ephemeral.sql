-- Short-lived values shared by the servers on one database (the login flow's
-- states and codes), so that any replica behind a load balancer continues a
-- flow another one started. Expired rows are deleted as new ones are put.
CREATE TABLE ephemeral (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ephemeral_expires ON ephemeral (expires_at);
