-- The benchmark service (package benchmark, docs/benchmarks.md): registered
-- benchmark repositories, their runs as jobs, the measurements harvested,
-- and the systems' configurations it last saw.
CREATE TABLE benchmark_sources (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	name            TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL,
	url             TEXT NOT NULL,
	branch          TEXT NOT NULL DEFAULT '',
	every_s         BIGINT NOT NULL DEFAULT 0,
	created_by      TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	commit_id       TEXT NOT NULL DEFAULT '',
	message         TEXT NOT NULL DEFAULT '',
	skipped_ci      BOOLEAN NOT NULL DEFAULT FALSE,
	checked_at      INTEGER,
	error           TEXT NOT NULL DEFAULT '',
	next_due        INTEGER
);

CREATE TABLE benchmark_runs (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	source_id     INTEGER NOT NULL REFERENCES benchmark_sources (id) ON DELETE CASCADE,
	commit_id     TEXT NOT NULL,
	model         TEXT NOT NULL,
	task          TEXT NOT NULL,
	platform      TEXT NOT NULL,
	command       TEXT NOT NULL,
	trigger_text  TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL,
	job_id        INTEGER,
	error         TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	ended_at      INTEGER,
	measurements  INTEGER NOT NULL DEFAULT 0
);
-- At most one pending run per (source, commit, task, platform): duplicates coalesce.
CREATE UNIQUE INDEX benchmark_runs_pending ON benchmark_runs (source_id, commit_id, model, task, platform) WHERE status IN ('queued', 'submitted');
CREATE INDEX benchmark_runs_status ON benchmark_runs (status, id);

CREATE TABLE benchmark_measurements (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id         INTEGER NOT NULL REFERENCES benchmark_runs (id) ON DELETE CASCADE,
	job_id         INTEGER NOT NULL,
	source_id      INTEGER NOT NULL,
	model          TEXT NOT NULL,
	task           TEXT NOT NULL,
	platform       TEXT NOT NULL,
	type           TEXT NOT NULL,
	name           TEXT NOT NULL,
	value          REAL NOT NULL,
	units          TEXT NOT NULL DEFAULT '',
	std_dev        REAL,
	min_value      REAL,
	max_value      REAL,
	measure        TEXT NOT NULL,
	ts             INTEGER NOT NULL,
	recorded_at    INTEGER NOT NULL,
	nmp_version    TEXT NOT NULL DEFAULT '',
	commit_id      TEXT NOT NULL DEFAULT '',
	machine        TEXT NOT NULL DEFAULT '',
	file           TEXT NOT NULL DEFAULT '',
	configuration  TEXT
);
CREATE INDEX benchmark_measurements_series ON benchmark_measurements (model, task, name, platform, ts);

CREATE TABLE benchmark_systems (
	platform     TEXT PRIMARY KEY,
	fingerprint  TEXT NOT NULL,
	changed_at   INTEGER NOT NULL
);
