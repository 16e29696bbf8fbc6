-- Statistics' aggregates, kept up to date in the transactions that change
-- jobs (store/sqlstore/statsagg.go says how), so that every statistics
-- answer reads rows per day and platform (and user), never one per job.
-- Days are whole UTC days since 1970-01-01.

-- Finished and errored jobs and their summed usage per completion day and platform.
CREATE TABLE stats_completed (
	day      BIGINT NOT NULL,
	platform TEXT NOT NULL,
	jobs     BIGINT NOT NULL,
	usage    DOUBLE PRECISION NOT NULL,
	PRIMARY KEY (day, platform)
);

-- The same jobs per status, platform and whole seconds from submission to completion.
CREATE TABLE stats_durations (
	status   TEXT NOT NULL,
	platform TEXT NOT NULL,
	seconds  BIGINT NOT NULL,
	jobs     BIGINT NOT NULL,
	PRIMARY KEY (status, platform, seconds)
);

-- Jobs (removed ones too) and their summed usage per platform, user and submission day.
CREATE TABLE stats_user_days (
	platform TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	day      BIGINT NOT NULL,
	jobs     BIGINT NOT NULL,
	usage    DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (platform, user_id, day)
);

-- Each user's first submission day per platform.
CREATE TABLE stats_user_first (
	platform TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	day      BIGINT NOT NULL,
	PRIMARY KEY (platform, user_id)
);

-- The change, from the day before, of the users active on a platform (a job
-- submitted there in the 90 days up to the day); the active users on a day
-- are the sum of the changes up to it.
CREATE TABLE stats_active (
	platform TEXT NOT NULL,
	day      BIGINT NOT NULL,
	delta    BIGINT NOT NULL,
	PRIMARY KEY (day, platform)
);

-- Backfill from the jobs there are (the same statements as
-- sqlstore.StatsBackfill, which a test holds them to).
INSERT INTO stats_completed (day, platform, jobs, usage)
SELECT CAST(FLOOR(EXTRACT(EPOCH FROM completed_at) / 86400) AS BIGINT), hardware_platform, COUNT(*), COALESCE(SUM(resource_usage), 0) FROM jobs
WHERE status IN ('finished', 'error') AND completed_at IS NOT NULL
GROUP BY CAST(FLOOR(EXTRACT(EPOCH FROM completed_at) / 86400) AS BIGINT), hardware_platform;

INSERT INTO stats_durations (status, platform, seconds, jobs)
SELECT status, hardware_platform, CAST(FLOOR(EXTRACT(EPOCH FROM (completed_at - submitted_at))) AS BIGINT), COUNT(*) FROM jobs
WHERE status IN ('finished', 'error') AND completed_at IS NOT NULL AND completed_at >= submitted_at
GROUP BY status, hardware_platform, CAST(FLOOR(EXTRACT(EPOCH FROM (completed_at - submitted_at))) AS BIGINT);

INSERT INTO stats_user_days (platform, user_id, day, jobs, usage)
SELECT hardware_platform, user_id, CAST(FLOOR(EXTRACT(EPOCH FROM submitted_at) / 86400) AS BIGINT), COUNT(*), COALESCE(SUM(resource_usage), 0) FROM jobs
GROUP BY hardware_platform, user_id, CAST(FLOOR(EXTRACT(EPOCH FROM submitted_at) / 86400) AS BIGINT);

INSERT INTO stats_user_first (platform, user_id, day)
SELECT platform, user_id, MIN(day) FROM stats_user_days GROUP BY platform, user_id;

INSERT INTO stats_active (platform, day, delta)
SELECT platform, d, SUM(delta) FROM (
	SELECT platform, CASE WHEN prev IS NULL OR prev + 91 < day THEN day ELSE prev + 91 END AS d, 1 AS delta
	FROM (SELECT platform, day, LAG(day) OVER (PARTITION BY platform, user_id ORDER BY day) AS prev FROM stats_user_days) runs
	UNION ALL
	SELECT platform, day + 91, -1 FROM stats_user_days
) deltas GROUP BY platform, d HAVING SUM(delta) <> 0;
