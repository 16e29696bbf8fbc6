package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/store"
)

const jobCols = `id, code, command, collab, user_id, status, hardware_platform, hardware_config, input_data, provenance,
	submitted_at, started_at, completed_at, resource_usage, charged, hold_quota_id, hold_amount,
	lease_id, lease_owner, lease_expires_at, attempts, output_repository`

func scanJob(row interface{ Scan(...any) error }) (*store.Job, error) {
	var j store.Job
	var cfg, in, prov sql.NullString
	var started, completed, leaseExp ntime
	var usage sql.NullFloat64
	var hold sql.NullInt64
	err := row.Scan(&j.ID, &j.Code, &j.Command, &j.Collab, &j.UserID, &j.Status, &j.HardwarePlatform, &cfg, &in, &prov,
		tcol(&j.SubmittedAt), started.scan(), completed.scan(), &usage, &j.Charged, &hold, &j.HoldAmount,
		&j.LeaseID, &j.LeaseOwner, leaseExp.scan(), &j.Attempts, &j.OutputRepository)
	if err != nil {
		return nil, err
	}
	j.HardwareConfig, j.InputData, j.Provenance = rawJSON(cfg), rawJSON(in), rawJSON(prov)
	j.StartedAt, j.CompletedAt, j.LeaseExpiresAt = started.ptr(), completed.ptr(), leaseExp.ptr()
	if usage.Valid {
		v := usage.Float64
		j.ResourceUsage = &v
	}
	if hold.Valid {
		v := hold.Int64
		j.HoldQuotaID = &v
	}
	return &j, nil
}

func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid || s.String == "" {
		return nil
	}
	return json.RawMessage(s.String)
}

func jsonArg(m json.RawMessage) any {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return string(m)
}

// JobInsert implements store.Store.
//
// The job and its tags are written first and the quota is reserved last, in as
// few statements as possible, because the reservation locks the quota row until
// commit: every submission to the same collab and platform waits for that lock.
func (s *Store) JobInsert(ctx context.Context, p *store.JobInsertParams) (*store.Job, error) {
	j := p.Job
	if j.IdempotencyKey != "" {
		if old, err := s.jobByKey(ctx, j.UserID, j.IdempotencyKey); err == nil {
			return old, store.ErrReplayed
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	var key any
	if j.IdempotencyKey != "" {
		key = j.IdempotencyKey
	}
	var out *store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `INSERT INTO jobs (code, command, collab, user_id, status, hardware_platform, hardware_config, input_data,
			submitted_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+jobCols,
			j.Code, j.Command, j.Collab, j.UserID, store.StatusSubmitted, j.HardwarePlatform, jsonArg(j.HardwareConfig), jsonArg(j.InputData),
			s.t(nowOr(p.Now)), key)
		var err error
		out, err = scanJob(row)
		if err != nil {
			return fmt.Errorf("insert job: %w", err)
		}
		if out.Tags, err = insertTags(ctx, tx, out.ID, j.Tags); err != nil {
			return err
		}
		if err := s.statsSubmitted(ctx, tx, out.HardwarePlatform, out.UserID, unixDay(out.SubmittedAt), +1, 0); err != nil {
			return err
		}
		switch {
		case p.Reserve < 0:
			return nil
		case p.Reserve == 0:
			_, err := s.reserve(ctx, tx, j.Collab, j.HardwarePlatform, 0)
			return err
		}
		// A fast path that misses may still have locked the quota it tried
		// (PostgreSQL locks a row before re-checking it); rolling back to the
		// savepoint drops that lock, so that the slow path takes its locks in
		// quota id order and cannot deadlock with another.
		if _, err := tx.ExecContext(ctx, `SAVEPOINT reserve_fast`); err != nil {
			return fmt.Errorf("insert job: %w", err)
		}
		id, err := s.reserveFast(ctx, tx, out.ID, j.Collab, j.HardwarePlatform, p.Reserve)
		if err != nil {
			return err
		}
		if id == nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT reserve_fast`); err != nil {
				return fmt.Errorf("insert job: %w", err)
			}
			// No quota with room was found (or the one chosen filled up
			// meanwhile): decide with every quota locked.
			if id, err = s.reserve(ctx, tx, j.Collab, j.HardwarePlatform, p.Reserve); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET hold_quota_id = $1, hold_amount = $2 WHERE id = $3`, *id, p.Reserve, out.ID); err != nil {
				return fmt.Errorf("insert job: %w", err)
			}
		}
		out.HoldQuotaID, out.HoldAmount = id, p.Reserve
		return nil
	})
	if err != nil && j.IdempotencyKey != "" && s.d.IsUnique(err) {
		// A concurrent submission with the same key won the race.
		old, gerr := s.jobByKey(ctx, j.UserID, j.IdempotencyKey)
		if gerr != nil {
			return nil, gerr
		}
		return old, store.ErrReplayed
	}
	if err != nil {
		return nil, err
	}
	out.IdempotencyKey = j.IdempotencyKey
	return out, nil
}

// jobByKey returns the user's job inserted with this idempotency key.
func (s *Store) jobByKey(ctx context.Context, user, key string) (*store.Job, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM jobs WHERE user_id = $1 AND idempotency_key = $2`, user, key).Scan(&id)
	if err != nil {
		return nil, notFoundIf(err, "job with idempotency key", key)
	}
	j, err := s.JobGet(ctx, id)
	if err != nil {
		return nil, err
	}
	j.IdempotencyKey = key
	return j, nil
}

// reserveFast holds amount on the oldest quota with room and records the hold on
// the job, in one statement where the database allows it. It returns nil when
// it reserved nothing.
func (s *Store) reserveFast(ctx context.Context, tx *sql.Tx, jobID int64, collab, platform string, amount float64) (*int64, error) {
	pick := `SELECT q.id FROM quotas q JOIN projects p ON p.id = q.project_id
		WHERE p.collab = $2 AND p.accepted = $3 AND q.platform = $4 AND q.qlimit - q.usage - q.reserved >= $1 ORDER BY q.id LIMIT 1` + s.d.Lock("q")
	reserve := `UPDATE quotas SET reserved = reserved + $1 WHERE id = (` + pick + `) RETURNING id`
	var id int64
	var err error
	if s.d.WritableCTE {
		err = tx.QueryRowContext(ctx, `WITH r AS (`+reserve+`) UPDATE jobs SET hold_quota_id = r.id, hold_amount = $1 FROM r WHERE jobs.id = $5 RETURNING r.id`,
			amount, collab, true, platform, jobID).Scan(&id)
	} else {
		err = tx.QueryRowContext(ctx, reserve, amount, collab, true, platform).Scan(&id)
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE jobs SET hold_quota_id = $1, hold_amount = $2 WHERE id = $3`, id, amount, jobID)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reserve quota: %w", err)
	}
	return &id, nil
}

// insertTags adds the tags in one statement and returns them sorted, without duplicates.
func insertTags(ctx context.Context, tx *sql.Tx, id int64, tags []string) ([]string, error) {
	uniq := append([]string(nil), tags...)
	sort.Strings(uniq)
	uniq = slices.Compact(uniq)
	if len(uniq) == 0 {
		return []string{}, nil
	}
	args := []any{id}
	var vals []string
	for i, t := range uniq {
		args = append(args, t)
		vals = append(vals, fmt.Sprintf("($1, $%d)", i+2))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO job_tags (job_id, tag) VALUES `+strings.Join(vals, ", ")+` ON CONFLICT DO NOTHING`, args...); err != nil {
		return nil, fmt.Errorf("add tags: %w", err)
	}
	return uniq, nil
}

func addTags(ctx context.Context, tx *sql.Tx, id int64, tags []string) ([]string, error) {
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO job_tags (job_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, t); err != nil {
			return nil, fmt.Errorf("add tag: %w", err)
		}
	}
	return jobTags(ctx, tx, id)
}

func jobTags(ctx context.Context, q querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT tag FROM job_tags WHERE job_id = $1 ORDER BY tag`, id)
	if err != nil {
		return nil, fmt.Errorf("read tags: %w", err)
	}
	defer rows.Close()
	tags := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("read tags: %w", err)
		}
		tags = append(tags, t)
	}
	return tags, rows.Err()
}

// fillTags loads the tags of many jobs in one query.
func fillTags(ctx context.Context, q querier, jobs []store.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(jobs))
	args := make([]any, len(jobs))
	for i := range jobs {
		idx[jobs[i].ID] = i
		args[i] = jobs[i].ID
		jobs[i].Tags = []string{}
	}
	rows, err := q.QueryContext(ctx, `SELECT job_id, tag FROM job_tags WHERE job_id IN (`+placeholders(1, len(args))+`) ORDER BY tag`, args...)
	if err != nil {
		return fmt.Errorf("read tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			return fmt.Errorf("read tags: %w", err)
		}
		jobs[idx[id]].Tags = append(jobs[idx[id]].Tags, t)
	}
	return rows.Err()
}

func (s *Store) getJob(ctx context.Context, q querier, id int64, lock bool) (*store.Job, error) {
	query := `SELECT ` + jobCols + ` FROM jobs WHERE id = $1`
	if lock {
		query += s.d.Lock("jobs")
	}
	j, err := scanJob(q.QueryRowContext(ctx, query, id))
	if err != nil {
		return nil, notFoundIf(err, "job", id)
	}
	j.Tags, err = jobTags(ctx, q, id)
	if err != nil {
		return nil, err
	}
	return j, nil
}

// JobGet implements store.Store.
func (s *Store) JobGet(ctx context.Context, id int64) (*store.Job, error) {
	return s.getJob(ctx, s.db, id, false)
}

// JobList implements store.Store.
func (s *Store) JobList(ctx context.Context, p *store.JobListParams) ([]store.Job, error) {
	w := &where{}
	w.in("status", p.Status)
	if !p.IncludeRemoved {
		w.add("status <> ?", store.StatusRemoved)
	}
	w.in("collab", p.Collab)
	w.in("user_id", p.UserID)
	w.in("hardware_platform", p.HardwarePlatform)
	if len(p.Tags) > 0 {
		args := make([]any, len(p.Tags))
		for i, t := range p.Tags {
			args[i] = t
		}
		w.add("EXISTS (SELECT 1 FROM job_tags t WHERE t.job_id = jobs.id AND t.tag IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+"))", args...)
	}
	if p.SubmittedFrom != nil {
		w.add("submitted_at >= ?", s.t(*p.SubmittedFrom))
	}
	if p.SubmittedTo != nil {
		w.add("submitted_at < ?", s.t(*p.SubmittedTo))
	}
	if p.CompletedFrom != nil {
		w.add("completed_at >= ?", s.t(*p.CompletedFrom))
	}
	if p.CompletedTo != nil {
		w.add("completed_at < ?", s.t(*p.CompletedTo))
	}
	order := " ORDER BY id DESC"
	if p.Oldest {
		order = " ORDER BY id"
	}
	cols := jobCols
	if p.MaxCode > 0 {
		cols = strings.Replace(jobCols, "id, code,", fmt.Sprintf("id, CASE WHEN length(code) <= %d THEN code ELSE '' END,", p.MaxCode), 1)
	}
	q := `SELECT ` + cols + ` FROM jobs` + w.sql() + order
	q += limitOffset(w, p.Limit, p.Offset)
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	out := []store.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		out = append(out, *j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	rows.Close()
	if err := fillTags(ctx, s.db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// JobCount implements store.Store.
func (s *Store) JobCount(ctx context.Context, p *store.JobCountParams) (int, error) {
	w := &where{}
	if p.HardwarePlatform != "" {
		w.add("hardware_platform = ?", p.HardwarePlatform)
	}
	if p.Status != "" {
		w.add("status = ?", p.Status)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs`+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count jobs: %w", err)
	}
	return n, nil
}

// JobNext implements store.Store.
func (s *Store) JobNext(ctx context.Context, platform string) (*store.Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE hardware_platform = $1 AND status = $2 ORDER BY id LIMIT 1`,
		platform, store.StatusSubmitted))
	if err != nil {
		return nil, notFoundIf(err, "queued job for", platform)
	}
	if j.Tags, err = jobTags(ctx, s.db, j.ID); err != nil {
		return nil, err
	}
	return j, nil
}

// JobClaim implements store.Store.
func (s *Store) JobClaim(ctx context.Context, p *store.JobClaimParams) (*store.Job, error) {
	now := nowOr(p.Now)
	var j *store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		// With MinHold, a job whose quota is held by running jobs of its
		// collab and has too little room left waits for them to end.
		roomy := ``
		args := []any{store.StatusRunning, p.LeaseID, p.Owner, s.t(now.Add(p.Lease)), s.t(now), p.Platform, store.StatusSubmitted}
		if p.MinHold > 0 {
			roomy = ` AND (hold_quota_id IS NULL
				OR EXISTS (SELECT 1 FROM quotas q WHERE q.id = jobs.hold_quota_id AND q.qlimit - q.usage - q.reserved + jobs.hold_amount >= $8)
				OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.hold_quota_id = jobs.hold_quota_id AND r.status = $1))`
			args = append(args, p.MinHold)
		}
		j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET status = $1, lease_id = $2, lease_owner = $3, lease_expires_at = $4,
			attempts = attempts + 1, started_at = $5
			WHERE id = (SELECT id FROM jobs WHERE hardware_platform = $6 AND status = $7`+roomy+` ORDER BY id LIMIT 1`+s.d.SkipLocked+`)
			RETURNING `+jobCols, args...))
		if err != nil {
			return notFoundIf(err, "queued job for", p.Platform)
		}
		if p.Hold > j.HoldAmount && j.HoldQuotaID != nil {
			if err := s.growHold(ctx, tx, j, p.Hold); err != nil {
				return err
			}
		}
		j.Tags, err = jobTags(ctx, tx, j.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// growHold raises the claimed job's hold towards want, as far as its quota
// has room: so that what the job may use is held before it runs, and jobs
// running at once can never together use more than the quota has.
func (s *Store) growHold(ctx context.Context, tx *sql.Tx, j *store.Job, want float64) error {
	var room float64
	err := tx.QueryRowContext(ctx, `SELECT qlimit - usage - reserved FROM quotas WHERE id = $1`+s.d.Lock("quotas"), *j.HoldQuotaID).Scan(&room)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the quota was deleted: the job keeps what it holds
	}
	if err != nil {
		return fmt.Errorf("grow hold of job %d: %w", j.ID, err)
	}
	add := math.Min(want-j.HoldAmount, room)
	if add <= 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE quotas SET reserved = reserved + $1 WHERE id = $2`, add, *j.HoldQuotaID); err != nil {
		return fmt.Errorf("grow hold of job %d: %w", j.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET hold_amount = $1 WHERE id = $2`, j.HoldAmount+add, j.ID); err != nil {
		return fmt.Errorf("grow hold of job %d: %w", j.ID, err)
	}
	j.HoldAmount += add
	return nil
}

// JobLeaseRenew implements store.Store.
func (s *Store) JobLeaseRenew(ctx context.Context, p *store.JobLeaseRenewParams) (*store.Job, error) {
	now := nowOr(p.Now)
	j, err := scanJob(s.db.QueryRowContext(ctx, `UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_id = $3 AND lease_id <> '' AND status = $4 RETURNING `+jobCols,
		s.t(now.Add(p.Lease)), p.ID, p.LeaseID, store.StatusRunning))
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := s.JobGet(ctx, p.ID); gerr != nil {
			return nil, gerr
		}
		return nil, fmt.Errorf("job %d: %w", p.ID, store.ErrLeaseLost)
	}
	if err != nil {
		return nil, fmt.Errorf("renew lease: %w", err)
	}
	if j.Tags, err = jobTags(ctx, s.db, j.ID); err != nil {
		return nil, err
	}
	return j, nil
}

// JobRescue implements store.Store.
func (s *Store) JobRescue(ctx context.Context, p *store.JobRescueParams) ([]store.JobRescued, error) {
	now := nowOr(p.Now)
	var out []store.JobRescued
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE status = $1 AND lease_expires_at IS NOT NULL AND lease_expires_at < $2
			ORDER BY id LIMIT 100`+s.d.SkipLocked, store.StatusRunning, s.t(now))
		if err != nil {
			return fmt.Errorf("rescue jobs: %w", err)
		}
		var jobs []store.Job
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("rescue jobs: %w", err)
			}
			jobs = append(jobs, *j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("rescue jobs: %w", err)
		}
		// Lock the quotas whose holds may be released, in id order, as admissions do.
		var holds []any
		for _, j := range jobs {
			if j.Attempts >= p.MaxAttempts && j.HoldQuotaID != nil {
				holds = append(holds, *j.HoldQuotaID)
			}
		}
		if len(holds) > 0 {
			rows, err := tx.QueryContext(ctx, `SELECT id FROM quotas WHERE id IN (`+placeholders(1, len(holds))+`) ORDER BY id`+s.d.Lock("quotas"), holds...)
			if err != nil {
				return fmt.Errorf("rescue jobs: %w", err)
			}
			rows.Close()
		}
		for _, j := range jobs {
			expired := j.LeaseExpiresAt.UTC().Format(time.RFC3339)
			if j.Attempts < p.MaxAttempts {
				_, err = tx.ExecContext(ctx, `UPDATE jobs SET status = $1, lease_id = '', lease_owner = '', lease_expires_at = NULL WHERE id = $2`,
					store.StatusSubmitted, j.ID)
				if err == nil {
					err = appendLog(ctx, tx, j.ID, fmt.Sprintf("nmp: the lease of %s on this job expired at %s; the job is back in the queue (attempt %d of %d failed)\n",
						j.LeaseOwner, expired, j.Attempts, p.MaxAttempts), 0)
				}
				out = append(out, store.JobRescued{ID: j.ID, Attempts: j.Attempts, Status: store.StatusSubmitted})
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE jobs SET status = $1, lease_id = '', lease_owner = '', lease_expires_at = NULL, completed_at = $2,
					hold_quota_id = NULL, hold_amount = 0 WHERE id = $3`, store.StatusError, s.t(now), j.ID)
				if err == nil {
					err = release(ctx, tx, j.HoldQuotaID, j.HoldAmount)
				}
				if err == nil {
					ended := j
					ended.Status = store.StatusError
					at := now.UTC().Truncate(time.Microsecond)
					ended.CompletedAt = &at
					err = statsCompleted(ctx, tx, completedOf(&ended), +1)
				}
				if err == nil {
					err = appendLog(ctx, tx, j.ID, fmt.Sprintf("nmp: the lease of %s on this job expired at %s; the job failed after %d attempts and will not be retried\n",
						j.LeaseOwner, expired, j.Attempts), 0)
				}
				out = append(out, store.JobRescued{ID: j.ID, Attempts: j.Attempts, Status: store.StatusError})
			}
			if err != nil {
				return fmt.Errorf("rescue job %d: %w", j.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// JobUpdate implements store.Store.
func (s *Store) JobUpdate(ctx context.Context, p *store.JobUpdateParams) (*store.Job, error) {
	now := nowOr(p.Now)
	var out *store.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := s.getJob(ctx, tx, p.ID, true)
		if err != nil {
			return err
		}
		if p.LeaseID != "" && p.LeaseID != j.LeaseID {
			return fmt.Errorf("job %d: %w", p.ID, store.ErrLeaseLost)
		}
		sets := &where{} // used for its argument numbering
		var cols []string
		set := func(col string, v any) {
			sets.args = append(sets.args, v)
			cols = append(cols, fmt.Sprintf("%s = $%d", col, len(sets.args)))
		}
		if p.ResourceUsage != nil {
			// before the quotas, in the statistics' lock order (statsagg.go)
			if err := statsUsage(ctx, tx, j, j.ResourceUsage, p.ResourceUsage); err != nil {
				return err
			}
		}
		ending := p.Status != nil && *p.Status != j.Status && store.Terminal(*p.Status)
		if ending || (p.ResourceUsage != nil && store.Terminal(j.Status)) || (p.ResourceUsage != nil && p.Status != nil && store.Terminal(*p.Status)) {
			// Releasing the hold and charging touch the quotas: lock them all
			// first, in id order, as admissions do.
			if _, err := s.lockQuotas(ctx, tx, j.Collab, j.HardwarePlatform); err != nil {
				return err
			}
		}
		status := j.Status
		if p.Status != nil && *p.Status != j.Status {
			// An ended job may still be removed (hidden), as on the reference server.
			if store.Terminal(j.Status) && (*p.Status != store.StatusRemoved || j.Status == store.StatusRemoved) {
				return fmt.Errorf("job %d is %s; it cannot become %s: %w", j.ID, j.Status, *p.Status, store.ErrConflict)
			}
			status = *p.Status
			set("status", status)
			switch {
			case status == store.StatusSubmitted:
				set("lease_id", "")
				set("lease_owner", "")
				set("lease_expires_at", nil)
			case store.Terminal(status) && store.Terminal(j.Status):
				// finished or error → removed: nothing is held, nothing changes but the status
			case store.Terminal(status):
				set("lease_id", "")
				set("lease_owner", "")
				set("lease_expires_at", nil)
				if status != store.StatusRemoved {
					set("completed_at", s.t(now))
				}
				set("hold_quota_id", nil)
				set("hold_amount", 0.0)
				if err := release(ctx, tx, j.HoldQuotaID, j.HoldAmount); err != nil {
					return err
				}
			default:
				if j.StartedAt == nil {
					set("started_at", s.t(now))
				}
			}
		}
		if p.Provenance != nil {
			set("provenance", jsonArg(p.Provenance))
		}
		if p.Repository != nil {
			set("output_repository", *p.Repository)
		}
		usage := j.ResourceUsage
		if p.ResourceUsage != nil {
			usage = p.ResourceUsage
			set("resource_usage", *usage)
		}
		// Usage is charged once the job has ended; a later report charges the difference.
		if (status == store.StatusFinished || status == store.StatusError) && usage != nil && *usage != j.Charged {
			if err := s.charge(ctx, tx, j.Collab, j.HardwarePlatform, *usage-j.Charged); err != nil {
				return err
			}
			set("charged", *usage)
		}
		if len(cols) > 0 {
			sets.args = append(sets.args, j.ID)
			q := fmt.Sprintf(`UPDATE jobs SET %s WHERE id = $%d`, strings.Join(cols, ", "), len(sets.args))
			if _, err := tx.ExecContext(ctx, q, sets.args...); err != nil {
				return fmt.Errorf("update job %d: %w", j.ID, err)
			}
		}
		if out, err = s.getJob(ctx, tx, j.ID, false); err != nil {
			return err
		}
		return statsChanged(ctx, tx, j, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// JobDelete implements store.Store.
func (s *Store) JobDelete(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		j, err := s.getJob(ctx, tx, id, true)
		if err != nil {
			return err
		}
		// the statistics' locks in their order (statsagg.go): users', quotas, completed jobs'
		if err := s.statsSubmitted(ctx, tx, j.HardwarePlatform, j.UserID, unixDay(j.SubmittedAt), -1, ptrValue(j.ResourceUsage)); err != nil {
			return err
		}
		if !store.Terminal(j.Status) {
			if err := release(ctx, tx, j.HoldQuotaID, j.HoldAmount); err != nil {
				return err
			}
		}
		if err := statsCompleted(ctx, tx, completedOf(j), -1); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM job_tags WHERE job_id = $1`, `DELETE FROM job_logs WHERE job_id = $1`,
			`DELETE FROM comments WHERE job_id = $1`, `DELETE FROM data_items WHERE job_id = $1`, `DELETE FROM jobs WHERE id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete job %d: %w", id, err)
			}
		}
		return s.recomputeStorage(ctx, tx, j.Collab)
	})
}

// JobLogGet implements store.Store.
func (s *Store) JobLogGet(ctx context.Context, id int64) (string, error) {
	var content string
	err := s.db.QueryRowContext(ctx, `SELECT content FROM job_logs WHERE job_id = $1`, id).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		if err := exists(ctx, s.db, `SELECT 1 FROM jobs WHERE id = $1`, id, "job"); err != nil {
			return "", err
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read log of job %d: %w", id, err)
	}
	return content, nil
}

// LogTruncated starts a log whose head was dropped to keep it within its size limit.
const LogTruncated = "[nmp: earlier log lines were dropped to keep the log within its size limit]\n"

func appendLog(ctx context.Context, tx *sql.Tx, id int64, content string, max int) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO job_logs (job_id, content) VALUES ($1, $2)
		ON CONFLICT (job_id) DO UPDATE SET content = job_logs.content || excluded.content`, id, content)
	if err != nil {
		return fmt.Errorf("append log: %w", err)
	}
	return truncateLog(ctx, tx, id, max)
}

func truncateLog(ctx context.Context, tx *sql.Tx, id int64, max int) error {
	if max <= 0 {
		return nil
	}
	keep := max - len(LogTruncated)
	if keep < 0 {
		keep = 0
	}
	_, err := tx.ExecContext(ctx, `UPDATE job_logs SET content = $1 || substr(content, length(content) - $2 + 1)
		WHERE job_id = $3 AND length(content) > $4`, LogTruncated, keep, id, max)
	if err != nil {
		return fmt.Errorf("truncate log: %w", err)
	}
	return nil
}

// JobLogSet implements store.Store.
func (s *Store) JobLogSet(ctx context.Context, p *store.JobLogSetParams) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM jobs WHERE id = $1`+s.d.Lock("jobs"), p.ID, "job"); err != nil {
			return err
		}
		if p.Append {
			return appendLog(ctx, tx, p.ID, p.Content, p.MaxBytes)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO job_logs (job_id, content) VALUES ($1, $2)
			ON CONFLICT (job_id) DO UPDATE SET content = excluded.content`, p.ID, p.Content)
		if err != nil {
			return fmt.Errorf("set log: %w", err)
		}
		return truncateLog(ctx, tx, p.ID, p.MaxBytes)
	})
}

// JobTagsAdd implements store.Store.
func (s *Store) JobTagsAdd(ctx context.Context, id int64, tags []string) ([]string, error) {
	var out []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM jobs WHERE id = $1`, id, "job"); err != nil {
			return err
		}
		var err error
		out, err = addTags(ctx, tx, id, tags)
		return err
	})
	return out, err
}

// JobTagsRemove implements store.Store.
func (s *Store) JobTagsRemove(ctx context.Context, id int64, tags []string) ([]string, error) {
	var out []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM jobs WHERE id = $1`, id, "job"); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `DELETE FROM job_tags WHERE job_id = $1 AND tag = $2`, id, t); err != nil {
				return fmt.Errorf("remove tag: %w", err)
			}
		}
		var err error
		out, err = jobTags(ctx, tx, id)
		return err
	})
	return out, err
}

// TagList implements store.Store.
func (s *Store) TagList(ctx context.Context, collabs []string) ([]string, error) {
	w := &where{}
	if collabs != nil {
		if len(collabs) == 0 {
			return []string{}, nil
		}
		w.in("j.collab", collabs)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT t.tag FROM job_tags t JOIN jobs j ON j.id = t.job_id`+w.sql()+` ORDER BY t.tag`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tags: %w", err)
		}
		out = append(out, t)
	}
	sort.Strings(out)
	return out, rows.Err()
}

const commentCols = `id, job_id, user_id, content, created_at`

func scanComment(row interface{ Scan(...any) error }) (*store.Comment, error) {
	var c store.Comment
	if err := row.Scan(&c.ID, &c.JobID, &c.UserID, &c.Content, tcol(&c.CreatedAt)); err != nil {
		return nil, err
	}
	return &c, nil
}

// CommentCreate implements store.Store.
func (s *Store) CommentCreate(ctx context.Context, c *store.Comment) (*store.Comment, error) {
	var out *store.Comment
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM jobs WHERE id = $1`, c.JobID, "job"); err != nil {
			return err
		}
		var err error
		out, err = scanComment(tx.QueryRowContext(ctx, `INSERT INTO comments (job_id, user_id, content, created_at) VALUES ($1, $2, $3, $4) RETURNING `+commentCols,
			c.JobID, c.UserID, c.Content, s.t(nowOr(c.CreatedAt))))
		if err != nil {
			return fmt.Errorf("create comment: %w", err)
		}
		return nil
	})
	return out, err
}

// CommentGet implements store.Store.
func (s *Store) CommentGet(ctx context.Context, id int64) (*store.Comment, error) {
	c, err := scanComment(s.db.QueryRowContext(ctx, `SELECT `+commentCols+` FROM comments WHERE id = $1`, id))
	if err != nil {
		return nil, notFoundIf(err, "comment", id)
	}
	return c, nil
}

// CommentList implements store.Store.
func (s *Store) CommentList(ctx context.Context, jobID int64) ([]store.Comment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+commentCols+` FROM comments WHERE job_id = $1 ORDER BY id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	defer rows.Close()
	out := []store.Comment{}
	for rows.Next() {
		c, err := scanComment(rows)
		if err != nil {
			return nil, fmt.Errorf("list comments: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// CommentUpdate implements store.Store.
func (s *Store) CommentUpdate(ctx context.Context, id int64, content string) (*store.Comment, error) {
	c, err := scanComment(s.db.QueryRowContext(ctx, `UPDATE comments SET content = $1 WHERE id = $2 RETURNING `+commentCols, content, id))
	if err != nil {
		return nil, notFoundIf(err, "comment", id)
	}
	return c, nil
}

// CommentDelete implements store.Store.
func (s *Store) CommentDelete(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM comments WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete comment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.NotFound("comment", id)
	}
	return nil
}

func ptrValue(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
