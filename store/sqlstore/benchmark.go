package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nmp-platform/nmp/store"
)

const sourceCols = `id, name, kind, url, branch, every_s, created_by, created_at, commit_id, message, skipped_ci, checked_at, error, next_due`

func scanSource(row interface{ Scan(...any) error }) (*store.BenchmarkSource, error) {
	var x store.BenchmarkSource
	var every int64
	var checked, due ntime
	if err := row.Scan(&x.ID, &x.Name, &x.Kind, &x.URL, &x.Branch, &every, &x.CreatedBy, tcol(&x.CreatedAt),
		&x.Commit, &x.Message, &x.SkippedCI, checked.scan(), &x.Error, due.scan()); err != nil {
		return nil, err
	}
	x.Every = time.Duration(every) * time.Second
	x.CheckedAt, x.NextDue = checked.ptr(), due.ptr()
	return &x, nil
}

// BenchmarkSourceCreate implements store.Store.
func (s *Store) BenchmarkSourceCreate(ctx context.Context, src *store.BenchmarkSource) (*store.BenchmarkSource, error) {
	row := s.db.QueryRowContext(ctx, `INSERT INTO benchmark_sources (name, kind, url, branch, every_s, created_by, created_at, next_due)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+sourceCols,
		src.Name, src.Kind, src.URL, src.Branch, int64(src.Every/time.Second), src.CreatedBy, s.t(nowOr(src.CreatedAt)), s.tp(src.NextDue))
	out, err := scanSource(row)
	if err != nil {
		return nil, s.wrapUnique(fmt.Errorf("benchmark source %s: %w", src.Name, err), "benchmark source", src.Name)
	}
	return out, nil
}

// BenchmarkSourceGet implements store.Store.
func (s *Store) BenchmarkSourceGet(ctx context.Context, name string) (*store.BenchmarkSource, error) {
	out, err := scanSource(s.db.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM benchmark_sources WHERE name = $1`, name))
	if err != nil {
		return nil, notFoundIf(err, "benchmark source", name)
	}
	return out, nil
}

// BenchmarkSourceList implements store.Store.
func (s *Store) BenchmarkSourceList(ctx context.Context) ([]store.BenchmarkSource, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceCols+` FROM benchmark_sources ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.BenchmarkSource
	for rows.Next() {
		x, err := scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, rows.Err()
}

// BenchmarkSourceUpdate implements store.Store.
func (s *Store) BenchmarkSourceUpdate(ctx context.Context, p *store.BenchmarkSourceUpdateParams) (*store.BenchmarkSource, error) {
	w := &where{}
	var sets []string
	set := func(col string, v any) {
		w.args = append(w.args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(w.args)))
	}
	if p.Commit != nil {
		set("commit_id", *p.Commit)
	}
	if p.Message != nil {
		set("message", *p.Message)
	}
	if p.SkippedCI != nil {
		set("skipped_ci", *p.SkippedCI)
	}
	if p.CheckedAt != nil {
		set("checked_at", s.t(*p.CheckedAt))
	}
	if p.Error != nil {
		set("error", *p.Error)
	}
	if p.NextDue != nil {
		set("next_due", s.t(*p.NextDue))
	}
	if p.Every != nil {
		set("every_s", int64(*p.Every/time.Second))
	}
	if len(sets) == 0 {
		out, err := scanSource(s.db.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM benchmark_sources WHERE id = $1`, p.ID))
		return out, notFoundIf(err, "benchmark source", p.ID)
	}
	w.args = append(w.args, p.ID)
	q := `UPDATE benchmark_sources SET ` + joinComma(sets) + fmt.Sprintf(` WHERE id = $%d RETURNING `, len(w.args)) + sourceCols
	out, err := scanSource(s.db.QueryRowContext(ctx, q, w.args...))
	if err != nil {
		return nil, notFoundIf(err, "benchmark source", p.ID)
	}
	return out, nil
}

func joinComma(ss []string) string {
	out := ""
	for i, x := range ss {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// BenchmarkSourceDelete implements store.Store.
func (s *Store) BenchmarkSourceDelete(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM benchmark_sources WHERE name = $1`, name).Scan(&id); err != nil {
			return notFoundIf(err, "benchmark source", name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM benchmark_measurements WHERE source_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM benchmark_runs WHERE source_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM benchmark_sources WHERE id = $1`, id)
		return err
	})
}

const runCols = `id, source_id, commit_id, model, task, platform, command, trigger_text, status, job_id, error, created_at, ended_at, measurements`

func scanRun(row interface{ Scan(...any) error }) (*store.BenchmarkRun, error) {
	var x store.BenchmarkRun
	var job sql.NullInt64
	var ended ntime
	if err := row.Scan(&x.ID, &x.SourceID, &x.Commit, &x.Model, &x.Task, &x.Platform, &x.Command, &x.Trigger, &x.Status,
		&job, &x.Error, tcol(&x.CreatedAt), ended.scan(), &x.Measurements); err != nil {
		return nil, err
	}
	if job.Valid {
		v := job.Int64
		x.JobID = &v
	}
	x.EndedAt = ended.ptr()
	return &x, nil
}

// BenchmarkRunCreate implements store.Store.
func (s *Store) BenchmarkRunCreate(ctx context.Context, r *store.BenchmarkRun) (*store.BenchmarkRun, bool, error) {
	var out *store.BenchmarkRun
	created := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		existing, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM benchmark_runs
			WHERE source_id = $1 AND commit_id = $2 AND model = $3 AND task = $4 AND platform = $5 AND status IN ('queued', 'submitted')`,
			r.SourceID, r.Commit, r.Model, r.Task, r.Platform))
		if err == nil {
			out = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		out, err = scanRun(tx.QueryRowContext(ctx, `INSERT INTO benchmark_runs (source_id, commit_id, model, task, platform, command, trigger_text, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8) RETURNING `+runCols,
			r.SourceID, r.Commit, r.Model, r.Task, r.Platform, r.Command, r.Trigger, s.t(nowOr(r.CreatedAt))))
		created = err == nil
		return err
	})
	if err != nil && s.d.IsUnique(err) {
		// A concurrent trigger inserted the same pending run first: coalesce with it.
		out, err = scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM benchmark_runs
			WHERE source_id = $1 AND commit_id = $2 AND model = $3 AND task = $4 AND platform = $5 AND status IN ('queued', 'submitted')`,
			r.SourceID, r.Commit, r.Model, r.Task, r.Platform))
		created = false
	}
	if err != nil {
		return nil, false, fmt.Errorf("benchmark run: %w", err)
	}
	return out, created, nil
}

// BenchmarkRunGet implements store.Store.
func (s *Store) BenchmarkRunGet(ctx context.Context, id int64) (*store.BenchmarkRun, error) {
	out, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM benchmark_runs WHERE id = $1`, id))
	if err != nil {
		return nil, notFoundIf(err, "benchmark run", id)
	}
	return out, nil
}

// BenchmarkRunList implements store.Store.
func (s *Store) BenchmarkRunList(ctx context.Context, p *store.BenchmarkRunListParams) ([]store.BenchmarkRun, error) {
	w := &where{}
	w.in("status", p.Status)
	if p.SourceID != 0 {
		w.add("source_id = ?", p.SourceID)
	}
	if p.Platform != "" {
		w.add("platform = ?", p.Platform)
	}
	q := `SELECT ` + runCols + ` FROM benchmark_runs` + w.sql() + ` ORDER BY id DESC` + limitOffset(w, p.Limit, 0)
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.BenchmarkRun
	for rows.Next() {
		x, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, rows.Err()
}

// BenchmarkRunUpdate implements store.Store.
func (s *Store) BenchmarkRunUpdate(ctx context.Context, p *store.BenchmarkRunUpdateParams) (*store.BenchmarkRun, error) {
	var out *store.BenchmarkRun
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM benchmark_runs WHERE id = $1`+s.d.Lock("benchmark_runs"), p.ID))
		if err != nil {
			return notFoundIf(err, "benchmark run", p.ID)
		}
		if cur.Status == store.RunFinished || cur.Status == store.RunError {
			return fmt.Errorf("benchmark run %d has ended (%s): %w", p.ID, cur.Status, store.ErrConflict)
		}
		if p.Status != nil {
			if *p.Status != store.RunQueued && *p.Status != store.RunSubmitted {
				return fmt.Errorf("benchmark run %d: status %q: runs end with BenchmarkRunEnd: %w", p.ID, *p.Status, store.ErrConflict)
			}
			cur.Status = *p.Status
		}
		if p.JobID != nil {
			v := *p.JobID
			cur.JobID = &v
		}
		if p.Error != nil {
			cur.Error = *p.Error
		}
		var job any
		if cur.JobID != nil {
			job = *cur.JobID
		}
		out, err = scanRun(tx.QueryRowContext(ctx, `UPDATE benchmark_runs SET status = $1, job_id = $2, error = $3 WHERE id = $4 RETURNING `+runCols,
			cur.Status, job, cur.Error, p.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BenchmarkRunEnd implements store.Store.
func (s *Store) BenchmarkRunEnd(ctx context.Context, p *store.BenchmarkRunEndParams) (*store.BenchmarkRun, error) {
	if p.Status != store.RunFinished && p.Status != store.RunError {
		return nil, fmt.Errorf("benchmark run %d: ends as %q: %w", p.ID, p.Status, store.ErrConflict)
	}
	now := nowOr(p.Now)
	var out *store.BenchmarkRun
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM benchmark_runs WHERE id = $1`+s.d.Lock("benchmark_runs"), p.ID))
		if err != nil {
			return notFoundIf(err, "benchmark run", p.ID)
		}
		if cur.Status == store.RunFinished || cur.Status == store.RunError {
			return fmt.Errorf("benchmark run %d has ended (%s): %w", p.ID, cur.Status, store.ErrConflict)
		}
		for _, m := range p.Measurements {
			if _, err := tx.ExecContext(ctx, `INSERT INTO benchmark_measurements (run_id, job_id, source_id, model, task, platform, type, name, value, units,
				std_dev, min_value, max_value, measure, ts, recorded_at, nmp_version, commit_id, machine, file, configuration)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
				p.ID, m.JobID, cur.SourceID, m.Model, m.Task, m.Platform, m.Type, m.Name, m.Value, m.Units,
				fptr(m.StdDev), fptr(m.Min), fptr(m.Max), m.Measure, s.t(m.Timestamp), s.t(nowOr(m.RecordedAt)),
				m.NMPVersion, m.Commit, m.Machine, m.File, jsonArg(m.Configuration)); err != nil {
				return fmt.Errorf("measurement %s: %w", m.Name, err)
			}
		}
		out, err = scanRun(tx.QueryRowContext(ctx, `UPDATE benchmark_runs SET status = $1, error = $2, ended_at = $3, measurements = $4 WHERE id = $5 RETURNING `+runCols,
			p.Status, p.Error, s.t(now), len(p.Measurements), p.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("benchmark run %d: %w", p.ID, err)
	}
	return out, nil
}

func fptr(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

const measurementCols = `id, run_id, job_id, source_id, model, task, platform, type, name, value, units, std_dev, min_value, max_value, measure,
	ts, recorded_at, nmp_version, commit_id, machine, file, configuration`

// BenchmarkMeasurementList implements store.Store.
func (s *Store) BenchmarkMeasurementList(ctx context.Context, p *store.BenchmarkMeasurementListParams) ([]store.BenchmarkMeasurement, error) {
	w := &where{}
	if p.SourceID != 0 {
		w.add("source_id = ?", p.SourceID)
	}
	for _, f := range []struct{ col, v string }{{"model", p.Model}, {"task", p.Task}, {"name", p.Name}, {"measure", p.Measure}, {"platform", p.Platform}} {
		if f.v != "" {
			w.add(f.col+" = ?", f.v)
		}
	}
	if p.From != nil {
		w.add("ts >= ?", s.t(*p.From))
	}
	if p.To != nil {
		w.add("ts < ?", s.t(*p.To))
	}
	q := `SELECT ` + measurementCols + ` FROM benchmark_measurements` + w.sql() + ` ORDER BY ts, id` + limitOffset(w, p.Limit, 0)
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.BenchmarkMeasurement
	for rows.Next() {
		var m store.BenchmarkMeasurement
		var sd, lo, hi sql.NullFloat64
		var cfg sql.NullString
		if err := rows.Scan(&m.ID, &m.RunID, &m.JobID, &m.SourceID, &m.Model, &m.Task, &m.Platform, &m.Type, &m.Name, &m.Value, &m.Units,
			&sd, &lo, &hi, &m.Measure, tcol(&m.Timestamp), tcol(&m.RecordedAt), &m.NMPVersion, &m.Commit, &m.Machine, &m.File, &cfg); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			n   sql.NullFloat64
			dst **float64
		}{{sd, &m.StdDev}, {lo, &m.Min}, {hi, &m.Max}} {
			if f.n.Valid {
				v := f.n.Float64
				*f.dst = &v
			}
		}
		m.Configuration = rawJSON(cfg)
		out = append(out, m)
	}
	return out, rows.Err()
}

// BenchmarkSystemSet implements store.Store.
func (s *Store) BenchmarkSystemSet(ctx context.Context, platform, fingerprint string, now time.Time) (string, bool, error) {
	prev, changed := "", false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT fingerprint FROM benchmark_systems WHERE platform = $1`+s.d.Lock("benchmark_systems"), platform).Scan(&prev)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			changed = true
			_, err = tx.ExecContext(ctx, `INSERT INTO benchmark_systems (platform, fingerprint, changed_at) VALUES ($1, $2, $3)`, platform, fingerprint, s.t(nowOr(now)))
			return err
		case err != nil:
			return err
		case prev == fingerprint:
			return nil
		}
		changed = true
		_, err = tx.ExecContext(ctx, `UPDATE benchmark_systems SET fingerprint = $1, changed_at = $2 WHERE platform = $3`, fingerprint, s.t(nowOr(now)), platform)
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("benchmark system %s: %w", platform, err)
	}
	return prev, changed, nil
}
