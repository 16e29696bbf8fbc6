package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// The statistics are aggregated by the database, so that their cost grows with
// the number of groups (platforms × days × users), not with the jobs' code.

func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// midnight tells whether t is nil or a midnight UTC.
func midnight(t *time.Time) bool {
	return t == nil || t.UTC().Truncate(time.Microsecond).UnixMicro()%microsPerDay == 0
}

// JobStats implements store.Store.
func (s *Store) JobStats(ctx context.Context, p *store.JobStatsParams) ([]store.JobStat, error) {
	if p.Completed && p.ByDay && !p.ByUser && midnight(p.From) && midnight(p.To) {
		return s.completedDaily(ctx, p.From, p.To)
	}
	// Per user: SQLite sorts the jobs' index entries to group them (620 ms
	// for a year of 100 000 jobs) and reads the day rows in order instead;
	// PostgreSQL hashes the index entries faster than it does the day rows
	// (docs/performance.md), so it keeps reading them.
	if !p.Completed && p.ByUser && !p.ByDay && midnight(p.From) && midnight(p.To) && s.d.Name != "postgres" {
		return s.userTotals(ctx, p.From, p.To)
	}
	w := &where{}
	col := "submitted_at"
	if p.Completed {
		col = "completed_at"
		w.in("status", []string{store.StatusFinished, store.StatusError})
	}
	if p.From != nil {
		w.add(col+" >= ?", s.t(*p.From))
	}
	if p.To != nil {
		w.add(col+" < ?", s.t(*p.To))
	}
	sel := []string{"hardware_platform"}
	if p.ByDay {
		sel = append(sel, s.d.Day(col))
	} else {
		sel = append(sel, "0")
	}
	if p.ByUser {
		sel = append(sel, "user_id")
	} else {
		sel = append(sel, "''")
	}
	// Day first: a platform first would tempt SQLite into the queue index
	// (platform, status, id) and a read of every job's row.
	var group []string
	if p.ByDay {
		group = append(group, s.d.Day(col))
	}
	group = append(group, "hardware_platform")
	if p.ByUser {
		group = append(group, "user_id")
	}
	q := `SELECT ` + strings.Join(sel, ", ") + `, COUNT(*), COALESCE(SUM(resource_usage), 0) FROM jobs` + w.sql() +
		` GROUP BY ` + strings.Join(group, ", ") + ` ORDER BY ` + strings.Join(group, ", ")
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("job statistics: %w", err)
	}
	defer rows.Close()
	out := []store.JobStat{}
	for rows.Next() {
		var st store.JobStat
		var d int64
		if err := rows.Scan(&st.Platform, &d, &st.User, &st.Count, &st.Usage); err != nil {
			return nil, fmt.Errorf("job statistics: %w", err)
		}
		if p.ByDay {
			st.Day = dayTime(d)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// completedDaily reads the finished and errored jobs per completion day and
// platform from their aggregate (statsagg.go).
func (s *Store) completedDaily(ctx context.Context, from, to *time.Time) ([]store.JobStat, error) {
	w := &where{}
	if from != nil {
		w.add("day >= ?", unixDay(*from))
	}
	if to != nil {
		w.add("day < ?", unixDay(*to))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, platform, jobs, usage FROM stats_completed`+w.sql()+` ORDER BY day, platform`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("job statistics: %w", err)
	}
	defer rows.Close()
	out := []store.JobStat{}
	for rows.Next() {
		var st store.JobStat
		var d int64
		if err := rows.Scan(&d, &st.Platform, &st.Count, &st.Usage); err != nil {
			return nil, fmt.Errorf("job statistics: %w", err)
		}
		st.Day = dayTime(d)
		out = append(out, st)
	}
	return out, rows.Err()
}

// userTotals reads the jobs and usage per platform and user submitted
// between two midnights from the per-day aggregate: one index range per
// platform and user, so that groups come in order without a sort.
func (s *Store) userTotals(ctx context.Context, from, to *time.Time) ([]store.JobStat, error) {
	w := &where{}
	on := ""
	if from != nil {
		w.args = append(w.args, unixDay(*from))
		on += fmt.Sprintf(" AND d.day >= $%d", len(w.args))
	}
	if to != nil {
		w.args = append(w.args, unixDay(*to))
		on += fmt.Sprintf(" AND d.day < $%d", len(w.args))
	}
	q := `SELECT f.platform, f.user_id, CAST(SUM(d.jobs) AS BIGINT), SUM(d.usage) FROM stats_user_first f
		JOIN stats_user_days d ON d.platform = f.platform AND d.user_id = f.user_id` + on + `
		GROUP BY f.platform, f.user_id ORDER BY f.platform, f.user_id`
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("user statistics: %w", err)
	}
	defer rows.Close()
	out := []store.JobStat{}
	for rows.Next() {
		var st store.JobStat
		if err := rows.Scan(&st.Platform, &st.User, &st.Count, &st.Usage); err != nil {
			return nil, fmt.Errorf("user statistics: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// JobActiveUsers implements store.Store: a running sum of the per-day
// changes of the active users (statsagg.go), read up to the last day asked.
func (s *Store) JobActiveUsers(ctx context.Context, days []time.Time) ([]store.JobStat, error) {
	out := []store.JobStat{}
	if len(days) == 0 {
		return out, nil
	}
	for i := 1; i < len(days); i++ {
		if days[i].Before(days[i-1]) {
			return nil, fmt.Errorf("active users: days must ascend (%s after %s)", days[i].Format(time.DateOnly), days[i-1].Format(time.DateOnly))
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, platform, delta FROM stats_active WHERE day <= $1 ORDER BY day`, unixDay(days[len(days)-1]))
	if err != nil {
		return nil, fmt.Errorf("active users: %w", err)
	}
	defer rows.Close()
	active := map[string]int{}
	var platforms []string
	k := 0
	emit := func(upTo int64) { // answers the days before upTo
		for ; k < len(days) && unixDay(days[k]) < upTo; k++ {
			sort.Strings(platforms)
			for _, p := range platforms {
				if n := active[p]; n > 0 {
					out = append(out, store.JobStat{Platform: p, Day: dayTime(unixDay(days[k])), Count: n})
				}
			}
		}
	}
	for rows.Next() {
		var d int64
		var p string
		var delta int
		if err := rows.Scan(&d, &p, &delta); err != nil {
			return nil, fmt.Errorf("active users: %w", err)
		}
		emit(d)
		if _, ok := active[p]; !ok {
			platforms = append(platforms, p)
		}
		active[p] += delta
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("active users: %w", err)
	}
	emit(math.MaxInt64)
	return out, nil
}

// JobUserFirstDays implements store.Store, from each user's first day per platform.
func (s *Store) JobUserFirstDays(ctx context.Context, platforms []string) ([]store.DayCount, error) {
	w := &where{}
	w.in("platform", platforms)
	q := `SELECT d, COUNT(*) FROM (SELECT MIN(day) AS d FROM stats_user_first` + w.sql() + ` GROUP BY user_id) firsts GROUP BY d ORDER BY d`
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("user statistics: %w", err)
	}
	defer rows.Close()
	out := []store.DayCount{}
	for rows.Next() {
		var d int64
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("user statistics: %w", err)
		}
		out = append(out, store.DayCount{Day: dayTime(d), Count: n})
	}
	return out, rows.Err()
}

// completedPlatforms lists the platforms with completed jobs: those with
// durations are among them, and it reads a table of days × platforms.
func (s *Store) completedPlatforms(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT platform FROM stats_completed ORDER BY platform`)
	if err != nil {
		return nil, fmt.Errorf("duration statistics: %w", err)
	}
	defer rows.Close()
	var platforms []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("duration statistics: %w", err)
		}
		platforms = append(platforms, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duration statistics: %w", err)
	}
	return platforms, nil
}

// JobDurations implements store.Store, from the per-second aggregate: one
// query per status and platform, each reading two integers per row.
func (s *Store) JobDurations(ctx context.Context) ([]store.JobDuration, error) {
	platforms, err := s.completedPlatforms(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.JobDuration{}
	for _, status := range []string{store.StatusError, store.StatusFinished} {
		for _, p := range platforms {
			if out, err = s.durations(ctx, out, status, p); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// JobDurationMax implements store.Store: one index seek per status and platform.
func (s *Store) JobDurationMax(ctx context.Context) ([]store.JobDuration, error) {
	platforms, err := s.completedPlatforms(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.JobDuration{}
	for _, status := range []string{store.StatusError, store.StatusFinished} {
		for _, p := range platforms {
			var m sql.NullInt64
			if err := s.db.QueryRowContext(ctx, `SELECT MAX(seconds) FROM stats_durations WHERE status = $1 AND platform = $2`, status, p).Scan(&m); err != nil {
				return nil, fmt.Errorf("duration statistics: %w", err)
			}
			if m.Valid {
				out = append(out, store.JobDuration{Status: status, Platform: p, Seconds: m.Int64})
			}
		}
	}
	return out, nil
}

// JobDurationHistogram implements store.Store: the database sums each
// bin's rows (an index range each), so that only the counts come back.
func (s *Store) JobDurationHistogram(ctx context.Context, status, platform string, edges []int64) ([]int, error) {
	if len(edges) < 2 {
		return []int{}, nil
	}
	out := make([]int, len(edges)-1)
	var bins []string
	for i := 0; i+1 < len(edges); i++ {
		if edges[i] < edges[i+1] {
			bins = append(bins, fmt.Sprintf("(%d, %d, %d)", i, edges[i], edges[i+1]))
		}
	}
	if len(bins) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `WITH b (i, lo, hi) AS (VALUES `+strings.Join(bins, ", ")+`)
		SELECT b.i, CAST(SUM(d.jobs) AS BIGINT) FROM b JOIN stats_durations d
		ON d.status = $1 AND d.platform = $2 AND d.seconds >= b.lo AND d.seconds < b.hi GROUP BY b.i`, status, platform)
	if err != nil {
		return nil, fmt.Errorf("duration histogram: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int64
		if err := rows.Scan(&i, &n); err != nil {
			return nil, fmt.Errorf("duration histogram: %w", err)
		}
		if i >= 0 && int(i) < len(out) {
			out[i] = int(n)
		}
	}
	return out, rows.Err()
}

func (s *Store) durations(ctx context.Context, out []store.JobDuration, status, platform string) ([]store.JobDuration, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seconds, jobs FROM stats_durations WHERE status = $1 AND platform = $2 ORDER BY seconds`, status, platform)
	if err != nil {
		return nil, fmt.Errorf("duration statistics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := store.JobDuration{Status: status, Platform: platform}
		if err := rows.Scan(&d.Seconds, &d.Count); err != nil {
			return nil, fmt.Errorf("duration statistics: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
