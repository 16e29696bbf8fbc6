-- Calibrations of emulated chips that the server schedules and workers run
-- (docs/calibration.md); a finished one is a versioned artefact whose files
-- live in the data directory. request_key makes a request unique per chip, so
-- that the schedulers of several server replicas ask once.
CREATE TABLE calibrations (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	chip             TEXT NOT NULL,
	platform         TEXT NOT NULL DEFAULT '',
	request_key      TEXT NOT NULL,
	reason           TEXT NOT NULL DEFAULT '',
	requested_by     TEXT NOT NULL DEFAULT '',
	status           TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	started_at       INTEGER,
	completed_at     INTEGER,
	lease_id         TEXT NOT NULL DEFAULT '',
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_expires_at INTEGER,
	attempts         INTEGER NOT NULL DEFAULT 0,
	error            TEXT NOT NULL DEFAULT '',
	summary          TEXT,
	files            TEXT,
	UNIQUE (chip, request_key)
);
CREATE INDEX calibrations_chip ON calibrations (chip, status, id);

-- The chips workers said they serve, with when they last said so.
CREATE TABLE calibration_chips (
	chip      TEXT PRIMARY KEY,
	platform  TEXT NOT NULL,
	provider  TEXT NOT NULL,
	last_seen INTEGER NOT NULL
);
