package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// The statistics' aggregates (migration 007) are kept up to date in the
// transactions that change jobs, so that every statistics answer reads a
// number of rows that grows with days × platforms (and users, for the user
// counts), never with the number of jobs:
//
//   - stats_completed: finished and errored jobs and their summed usage per
//     completion day and platform (job-count, cumulative-job-count, resource-usage);
//   - stats_durations: the same jobs per status, platform and whole seconds
//     from submission to completion (job-duration's histograms, exactly as
//     before: one row per distinct second, bounded by the longest job);
//   - stats_user_days: jobs (removed ones too) per platform, user and
//     submission day; stats_user_first, each user's first day per platform
//     (cumulative-user-count);
//   - stats_active: how the number of active users of a platform changes
//     from one day to the next (active-user-count). A user is active on day e
//     when they submitted a job in [e-ActiveDays, e]; each (platform, user, day)
//     covers ActiveDays+1 days, and stats_active holds +1 where a user's
//     covered run of days starts and -1 the day after it ends, so that the
//     active users on day e are the sum of deltas up to e.
//
// Locks are taken in one order everywhere (PostgreSQL): the job's row, the
// user's stats_user_first row, stats_user_days, stats_active by ascending
// day, the quotas, then stats_completed and stats_durations. (stats_user_days
// also sums the jobs' usage per day, for per-user.)

const microsPerDay = 86400 * 1000000

// unixDay is the UTC day of t as whole days since 1970-01-01, as the
// dialects' Day expressions compute it.
func unixDay(t time.Time) int64 {
	m := t.UTC().Truncate(time.Microsecond).UnixMicro()
	d := m / microsPerDay
	if m < 0 && m%microsPerDay != 0 {
		d--
	}
	return d
}

// completedPart is what one job adds to stats_completed and stats_durations.
type completedPart struct {
	ok       bool // a finished or errored job with a completion time
	platform string
	status   string
	day      int64
	usage    float64
	dur      bool // completed at or after it was submitted
	seconds  int64
}

func completedOf(j *store.Job) completedPart {
	if (j.Status != store.StatusFinished && j.Status != store.StatusError) || j.CompletedAt == nil {
		return completedPart{}
	}
	c := completedPart{ok: true, platform: j.HardwarePlatform, status: j.Status, day: unixDay(*j.CompletedAt)}
	if j.ResourceUsage != nil {
		c.usage = *j.ResourceUsage
	}
	sub, end := j.SubmittedAt.UTC().Truncate(time.Microsecond).UnixMicro(), j.CompletedAt.UTC().Truncate(time.Microsecond).UnixMicro()
	if end >= sub {
		c.dur, c.seconds = true, (end-sub)/1000000
	}
	return c
}

// statsCompleted adds (sign +1) or takes away (-1) a job's part of the completed aggregates.
func statsCompleted(ctx context.Context, tx *sql.Tx, c completedPart, sign int) error {
	if !c.ok {
		return nil
	}
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO stats_completed (day, platform, jobs, usage) VALUES ($1, $2, $3, $4)
		ON CONFLICT (day, platform) DO UPDATE SET jobs = stats_completed.jobs + excluded.jobs, usage = stats_completed.usage + excluded.usage
		RETURNING jobs`, c.day, c.platform, sign, float64(sign)*c.usage).Scan(&n)
	if err == nil && n == 0 {
		// no job left: drop the row, and with it any rounding left in usage
		_, err = tx.ExecContext(ctx, `DELETE FROM stats_completed WHERE day = $1 AND platform = $2`, c.day, c.platform)
	}
	if err != nil {
		return fmt.Errorf("completed jobs' statistics: %w", err)
	}
	if !c.dur {
		return nil
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO stats_durations (status, platform, seconds, jobs) VALUES ($1, $2, $3, $4)
		ON CONFLICT (status, platform, seconds) DO UPDATE SET jobs = stats_durations.jobs + excluded.jobs
		RETURNING jobs`, c.status, c.platform, c.seconds, sign).Scan(&n)
	if err == nil && n == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM stats_durations WHERE status = $1 AND platform = $2 AND seconds = $3`, c.status, c.platform, c.seconds)
	}
	if err != nil {
		return fmt.Errorf("duration statistics: %w", err)
	}
	return nil
}

// statsChanged moves a job's part of the completed aggregates from what it was to what it is.
func statsChanged(ctx context.Context, tx *sql.Tx, before, after *store.Job) error {
	b, a := completedOf(before), completedOf(after)
	if a == b {
		return nil
	}
	if err := statsCompleted(ctx, tx, b, -1); err != nil {
		return err
	}
	return statsCompleted(ctx, tx, a, +1)
}

// statsSubmitted adds (sign +1) or takes away (-1) one job submitted by user
// on platform on day to the user aggregates; a job taken away takes its
// usage with it (a job added has none yet).
func (s *Store) statsSubmitted(ctx context.Context, tx *sql.Tx, platform, user string, day int64, sign int, usage float64) error {
	wrap := func(err error) error { return fmt.Errorf("user statistics of %s on %s: %w", user, platform, err) }
	// The user's first-day row is taken first: it serialises the changes to
	// one user's days on a platform, which the active-user runs depend on.
	var first int64
	if sign > 0 {
		err := tx.QueryRowContext(ctx, `INSERT INTO stats_user_first (platform, user_id, day) VALUES ($1, $2, $3)
			ON CONFLICT (platform, user_id) DO UPDATE SET day = CASE WHEN excluded.day < stats_user_first.day THEN excluded.day ELSE stats_user_first.day END
			RETURNING day`, platform, user, day).Scan(&first)
		if err != nil {
			return wrap(err)
		}
	} else if err := tx.QueryRowContext(ctx, `SELECT day FROM stats_user_first WHERE platform = $1 AND user_id = $2`+s.d.Lock("stats_user_first"),
		platform, user).Scan(&first); err != nil {
		return wrap(err)
	}
	var n int64
	if sign > 0 {
		err := tx.QueryRowContext(ctx, `INSERT INTO stats_user_days (platform, user_id, day, jobs) VALUES ($1, $2, $3, 1)
			ON CONFLICT (platform, user_id, day) DO UPDATE SET jobs = stats_user_days.jobs + 1 RETURNING jobs`, platform, user, day).Scan(&n)
		if err != nil {
			return wrap(err)
		}
		if n > 1 {
			return nil // the day was counted already
		}
	} else {
		err := tx.QueryRowContext(ctx, `UPDATE stats_user_days SET jobs = jobs - 1, usage = usage - $4 WHERE platform = $1 AND user_id = $2 AND day = $3 RETURNING jobs`,
			platform, user, day, usage).Scan(&n)
		if err != nil {
			return wrap(err)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM stats_user_days WHERE platform = $1 AND user_id = $2 AND day = $3`, platform, user, day); err != nil {
			return wrap(err)
		}
	}
	// The day appeared or went: the days it alone covers are [lo, hi).
	var prev, next sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT MAX(day) FROM stats_user_days WHERE platform = $1 AND user_id = $2 AND day < $3),
		(SELECT MIN(day) FROM stats_user_days WHERE platform = $1 AND user_id = $2 AND day > $3)`, platform, user, day).Scan(&prev, &next); err != nil {
		return wrap(err)
	}
	lo, hi := day, day+store.ActiveDays+1
	if prev.Valid && prev.Int64+store.ActiveDays+1 > lo {
		lo = prev.Int64 + store.ActiveDays + 1
	}
	if next.Valid && next.Int64 < hi {
		hi = next.Int64
	}
	if lo < hi {
		if err := s.activeDelta(ctx, tx, platform, lo, sign); err != nil {
			return wrap(err)
		}
		if err := s.activeDelta(ctx, tx, platform, hi, -sign); err != nil {
			return wrap(err)
		}
	}
	if sign < 0 && day == first {
		var min sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(day) FROM stats_user_days WHERE platform = $1 AND user_id = $2`, platform, user).Scan(&min); err != nil {
			return wrap(err)
		}
		var err error
		if min.Valid {
			_, err = tx.ExecContext(ctx, `UPDATE stats_user_first SET day = $3 WHERE platform = $1 AND user_id = $2`, platform, user, min.Int64)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM stats_user_first WHERE platform = $1 AND user_id = $2`, platform, user)
		}
		if err != nil {
			return wrap(err)
		}
	}
	return nil
}

// statsUsage moves a job's usage in its user's submission day from before to
// after (nil: none).
func statsUsage(ctx context.Context, tx *sql.Tx, j *store.Job, before, after *float64) error {
	var b, a float64
	if before != nil {
		b = *before
	}
	if after != nil {
		a = *after
	}
	if a == b {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE stats_user_days SET usage = usage + $1 WHERE platform = $2 AND user_id = $3 AND day = $4`,
		a-b, j.HardwarePlatform, j.UserID, unixDay(j.SubmittedAt)); err != nil {
		return fmt.Errorf("usage statistics of job %d: %w", j.ID, err)
	}
	return nil
}

func (s *Store) activeDelta(ctx context.Context, tx *sql.Tx, platform string, day int64, delta int) error {
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO stats_active (platform, day, delta) VALUES ($1, $2, $3)
		ON CONFLICT (platform, day) DO UPDATE SET delta = stats_active.delta + excluded.delta RETURNING delta`, platform, day, delta).Scan(&n)
	if err == nil && n == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM stats_active WHERE platform = $1 AND day = $2`, platform, day)
	}
	return err
}

// StatsBackfill returns the statements that fill the empty aggregates from
// the jobs' rows: migration 007 holds them as written here (a test compares).
func StatsBackfill(d Dialect) []string {
	day, secs := d.Day("submitted_at"), d.Seconds("submitted_at", "completed_at")
	after := fmt.Sprint(store.ActiveDays + 1)
	return []string{
		`INSERT INTO stats_completed (day, platform, jobs, usage)
SELECT ` + d.Day("completed_at") + `, hardware_platform, COUNT(*), COALESCE(SUM(resource_usage), 0) FROM jobs
WHERE status IN ('finished', 'error') AND completed_at IS NOT NULL
GROUP BY ` + d.Day("completed_at") + `, hardware_platform;`,
		`INSERT INTO stats_durations (status, platform, seconds, jobs)
SELECT status, hardware_platform, ` + secs + `, COUNT(*) FROM jobs
WHERE status IN ('finished', 'error') AND completed_at IS NOT NULL AND completed_at >= submitted_at
GROUP BY status, hardware_platform, ` + secs + `;`,
		`INSERT INTO stats_user_days (platform, user_id, day, jobs, usage)
SELECT hardware_platform, user_id, ` + day + `, COUNT(*), COALESCE(SUM(resource_usage), 0) FROM jobs
GROUP BY hardware_platform, user_id, ` + day + `;`,
		`INSERT INTO stats_user_first (platform, user_id, day)
SELECT platform, user_id, MIN(day) FROM stats_user_days GROUP BY platform, user_id;`,
		// Each user day starts a covered run on itself or, when the previous
		// day's run still covers it, the day after that run; every run ends
		// ActiveDays+1 days after its day.
		`INSERT INTO stats_active (platform, day, delta)
SELECT platform, d, SUM(delta) FROM (
	SELECT platform, CASE WHEN prev IS NULL OR prev + ` + after + ` < day THEN day ELSE prev + ` + after + ` END AS d, 1 AS delta
	FROM (SELECT platform, day, LAG(day) OVER (PARTITION BY platform, user_id ORDER BY day) AS prev FROM stats_user_days) runs
	UNION ALL
	SELECT platform, day + ` + after + `, -1 FROM stats_user_days
) deltas GROUP BY platform, d HAVING SUM(delta) <> 0;`,
	}
}

// StatsRebuild recomputes the aggregates from the jobs' rows, for jobs
// written around the store (a bulk load) or a check that found them wrong.
func (s *Store) StatsRebuild(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range []string{"stats_completed", "stats_durations", "stats_user_days", "stats_user_first", "stats_active"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return fmt.Errorf("rebuild statistics: %w", err)
			}
		}
		for _, q := range StatsBackfill(s.d) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("rebuild statistics: %w", err)
			}
		}
		return nil
	})
}
