package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// The statistics are aggregated by the database, so that their cost grows with
// the number of groups (platforms × days × users), not with the jobs' code.

func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// JobStats implements store.Store.
func (s *Store) JobStats(ctx context.Context, p *store.JobStatsParams) ([]store.JobStat, error) {
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

// JobUserFirstDays implements store.Store.
func (s *Store) JobUserFirstDays(ctx context.Context, platforms []string) ([]store.DayCount, error) {
	w := &where{}
	w.in("hardware_platform", platforms)
	q := `SELECT d, COUNT(*) FROM (SELECT MIN(` + s.d.Day("submitted_at") + `) AS d FROM jobs` + w.sql() + ` GROUP BY user_id) firsts GROUP BY d ORDER BY d`
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

// JobDurations implements store.Store.
func (s *Store) JobDurations(ctx context.Context) ([]store.JobDuration, error) {
	secs := s.d.Seconds("submitted_at", "completed_at")
	q := `SELECT status, hardware_platform, ` + secs + `, COUNT(*) FROM jobs
		WHERE status IN ($1, $2) AND completed_at IS NOT NULL AND completed_at >= submitted_at
		GROUP BY status, hardware_platform, ` + secs + ` ORDER BY status, hardware_platform, ` + secs
	rows, err := s.db.QueryContext(ctx, q, store.StatusFinished, store.StatusError)
	if err != nil {
		return nil, fmt.Errorf("duration statistics: %w", err)
	}
	defer rows.Close()
	out := []store.JobDuration{}
	for rows.Next() {
		var d store.JobDuration
		if err := rows.Scan(&d.Status, &d.Platform, &d.Seconds, &d.Count); err != nil {
			return nil, fmt.Errorf("duration statistics: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
