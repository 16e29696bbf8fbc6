-- nmp job queue server, SQLite schema version 1.
-- Times are microseconds since the Unix epoch, UTC. JSON values are stored as text.

CREATE TABLE users (
	username      TEXT PRIMARY KEY,
	email         TEXT NOT NULL DEFAULT '',
	given_name    TEXT NOT NULL DEFAULT '',
	family_name   TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	admin         INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
);

CREATE TABLE collabs (
	name       TEXT PRIMARY KEY,
	title      TEXT NOT NULL DEFAULT '',
	public     INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);

CREATE TABLE collab_members (
	collab   TEXT NOT NULL REFERENCES collabs (name) ON DELETE CASCADE,
	username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	role     TEXT NOT NULL,
	PRIMARY KEY (collab, username)
);
CREATE INDEX collab_members_username ON collab_members (username);

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,
	username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	label      TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE INDEX tokens_username ON tokens (username);

CREATE TABLE providers (
	name       TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL
);

CREATE TABLE provider_platforms (
	provider TEXT NOT NULL REFERENCES providers (name) ON DELETE CASCADE,
	platform TEXT NOT NULL,
	PRIMARY KEY (provider, platform)
);

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	hash       TEXT NOT NULL UNIQUE,
	provider   TEXT NOT NULL REFERENCES providers (name) ON DELETE CASCADE,
	label      TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	revoked_at INTEGER
);

CREATE TABLE projects (
	id              TEXT PRIMARY KEY,
	collab          TEXT NOT NULL,
	owner           TEXT NOT NULL,
	title           TEXT NOT NULL,
	abstract        TEXT NOT NULL,
	description     TEXT NOT NULL DEFAULT '',
	access          TEXT NOT NULL DEFAULT 'test',
	created_at      INTEGER NOT NULL,
	submission_date INTEGER,
	decision_date   INTEGER,
	accepted        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX projects_collab ON projects (collab);

CREATE TABLE quotas (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	platform   TEXT NOT NULL,
	units      TEXT NOT NULL,
	qlimit     REAL NOT NULL,
	usage      REAL NOT NULL DEFAULT 0,
	reserved   REAL NOT NULL DEFAULT 0
);
CREATE INDEX quotas_project ON quotas (project_id);

CREATE TABLE jobs (
	id                   INTEGER PRIMARY KEY AUTOINCREMENT,
	code                 TEXT NOT NULL,
	command              TEXT NOT NULL DEFAULT '',
	collab               TEXT NOT NULL,
	user_id              TEXT NOT NULL,
	status               TEXT NOT NULL,
	hardware_platform    TEXT NOT NULL,
	hardware_config      TEXT,
	input_data           TEXT,
	provenance           TEXT,
	submitted_at         INTEGER NOT NULL,
	started_at           INTEGER,
	completed_at         INTEGER,
	resource_usage       REAL,
	charged              REAL NOT NULL DEFAULT 0,
	hold_quota_id        INTEGER,
	hold_amount          REAL NOT NULL DEFAULT 0,
	lease_id             TEXT NOT NULL DEFAULT '',
	lease_owner          TEXT NOT NULL DEFAULT '',
	lease_expires_at     INTEGER,
	attempts             INTEGER NOT NULL DEFAULT 0,
	output_repository    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_queue ON jobs (hardware_platform, status, id);
CREATE INDEX jobs_collab ON jobs (collab, id);
CREATE INDEX jobs_user ON jobs (user_id, id);
CREATE INDEX jobs_lease ON jobs (status, lease_expires_at);

CREATE TABLE job_tags (
	job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	tag    TEXT NOT NULL,
	PRIMARY KEY (job_id, tag)
);
CREATE INDEX job_tags_tag ON job_tags (tag);

CREATE TABLE job_logs (
	job_id  INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
	content TEXT NOT NULL
);

CREATE TABLE comments (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL,
	content    TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX comments_job ON comments (job_id, id);

CREATE TABLE data_items (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	job_id       INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	collab       TEXT NOT NULL,
	path         TEXT NOT NULL,
	url          TEXT NOT NULL DEFAULT '',
	size         INTEGER,
	hash         TEXT NOT NULL DEFAULT '',
	content_type TEXT NOT NULL DEFAULT '',
	stored       INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	UNIQUE (job_id, path)
);
CREATE INDEX data_items_expiry ON data_items (stored, expires_at);
CREATE INDEX data_items_collab ON data_items (collab, stored);

CREATE TABLE sessions (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	collab            TEXT NOT NULL,
	user_id           TEXT NOT NULL,
	status            TEXT NOT NULL,
	hardware_platform TEXT NOT NULL,
	hardware_config   TEXT,
	started_at        INTEGER NOT NULL,
	ended_at          INTEGER,
	resource_usage    REAL,
	charged           REAL NOT NULL DEFAULT 0,
	hold_quota_id     INTEGER,
	hold_amount       REAL NOT NULL DEFAULT 0
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
