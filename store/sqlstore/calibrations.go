package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nmp-platform/nmp/store"
)

const calibrationCols = `id, chip, platform, request_key, reason, requested_by, status, created_at, started_at, completed_at,
	lease_id, lease_owner, lease_expires_at, attempts, error, summary, files`

func scanCalibration(row interface{ Scan(...any) error }) (*store.Calibration, error) {
	var c store.Calibration
	var started, completed, leaseExp ntime
	var summary, files sql.NullString
	err := row.Scan(&c.ID, &c.Chip, &c.Platform, &c.Key, &c.Reason, &c.RequestedBy, &c.Status, tcol(&c.CreatedAt), started.scan(), completed.scan(),
		&c.LeaseID, &c.LeaseOwner, leaseExp.scan(), &c.Attempts, &c.Error, &summary, &files)
	if err != nil {
		return nil, err
	}
	c.StartedAt, c.CompletedAt, c.LeaseExpiresAt = started.ptr(), completed.ptr(), leaseExp.ptr()
	c.Summary = rawJSON(summary)
	if files.Valid && files.String != "" {
		if err := json.Unmarshal([]byte(files.String), &c.Files); err != nil {
			return nil, fmt.Errorf("calibration %d: files: %w", c.ID, err)
		}
	}
	return &c, nil
}

// CalibrationInsert implements store.Store.
func (s *Store) CalibrationInsert(ctx context.Context, p *store.CalibrationInsertParams) (*store.Calibration, error) {
	c := p.Calibration
	if c.Chip == "" || c.Key == "" {
		return nil, errors.New("insert calibration: chip and key are required")
	}
	out, err := scanCalibration(s.db.QueryRowContext(ctx, `INSERT INTO calibrations (chip, platform, request_key, reason, requested_by, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+calibrationCols,
		c.Chip, c.Platform, c.Key, c.Reason, c.RequestedBy, store.CalibrationQueued, s.t(nowOr(p.Now))))
	if err != nil {
		return nil, s.wrapUnique(err, "calibration request", c.Chip+" "+c.Key)
	}
	return out, nil
}

// CalibrationGet implements store.Store.
func (s *Store) CalibrationGet(ctx context.Context, id int64) (*store.Calibration, error) {
	c, err := scanCalibration(s.db.QueryRowContext(ctx, `SELECT `+calibrationCols+` FROM calibrations WHERE id = $1`, id))
	if err != nil {
		return nil, notFoundIf(err, "calibration", id)
	}
	return c, nil
}

// CalibrationList implements store.Store.
func (s *Store) CalibrationList(ctx context.Context, p *store.CalibrationListParams) ([]store.Calibration, error) {
	var w where
	w.in("chip", p.Chip)
	w.in("status", p.Status)
	q := `SELECT ` + calibrationCols + ` FROM calibrations` + w.sql() + ` ORDER BY id DESC` + limitOffset(&w, p.Limit, p.Offset)
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list calibrations: %w", err)
	}
	defer rows.Close()
	var out []store.Calibration
	for rows.Next() {
		c, err := scanCalibration(rows)
		if err != nil {
			return nil, fmt.Errorf("list calibrations: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// CalibrationClaim implements store.Store.
func (s *Store) CalibrationClaim(ctx context.Context, p *store.CalibrationClaimParams) (*store.Calibration, error) {
	if len(p.Chips) == 0 {
		return nil, store.NotFound("queued calibration for", "no chips")
	}
	now := nowOr(p.Now)
	max := p.MaxAttempts
	if max <= 0 {
		max = 3
	}
	var out *store.Calibration
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Calibrations whose workers stopped renewing them max times fail.
		var w where
		w.in("chip", p.Chips)
		w.add("status = ?", store.CalibrationRunning)
		w.add("lease_expires_at < ?", s.t(now))
		w.add("attempts >= ?", max)
		args := append([]any{store.CalibrationFailed, s.t(now),
			fmt.Sprintf("the workers that took it stopped before finishing it, %d times", max)}, w.args...)
		if _, err := tx.ExecContext(ctx, `UPDATE calibrations SET status = $1, completed_at = $2, error = $3, lease_id = ''`+shift(w.sql(), 3), args...); err != nil {
			return fmt.Errorf("claim calibration: %w", err)
		}
		var c where
		c.in("chip", p.Chips)
		c.add("(status = ? OR (status = ? AND lease_expires_at < ?))", store.CalibrationQueued, store.CalibrationRunning, s.t(now))
		pick := `SELECT id FROM calibrations` + c.sql() + ` ORDER BY id LIMIT 1` + s.d.SkipLocked
		args = append([]any{store.CalibrationRunning, p.LeaseID, p.Owner, s.t(now.Add(p.Lease)), s.t(now)}, c.args...)
		var err error
		out, err = scanCalibration(tx.QueryRowContext(ctx, `UPDATE calibrations SET status = $1, lease_id = $2, lease_owner = $3, lease_expires_at = $4,
			attempts = attempts + 1, started_at = $5 WHERE id = (`+shift(pick, 5)+`) RETURNING `+calibrationCols, args...))
		if errors.Is(err, sql.ErrNoRows) {
			// Commit the failures above all the same.
			out = nil
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim calibration: %w", err)
	}
	if out == nil {
		return nil, store.NotFound("queued calibration for", p.Chips)
	}
	return out, nil
}

// shift renumbers the $n placeholders of q by k.
func shift(q string, k int) string {
	out := make([]byte, 0, len(q)+8)
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			out = append(out, q[i])
			continue
		}
		j := i + 1
		n := 0
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			n = n*10 + int(q[j]-'0')
			j++
		}
		out = fmt.Appendf(out, "$%d", n+k)
		i = j - 1
	}
	return string(out)
}

// CalibrationFinish implements store.Store.
func (s *Store) CalibrationFinish(ctx context.Context, p *store.CalibrationFinishParams) (*store.Calibration, error) {
	if p.Status != store.CalibrationFinished && p.Status != store.CalibrationFailed {
		return nil, fmt.Errorf("calibration %d: status %q is not %s or %s: %w", p.ID, p.Status, store.CalibrationFinished, store.CalibrationFailed, store.ErrConflict)
	}
	var files any
	if len(p.Files) > 0 {
		b, err := json.Marshal(p.Files)
		if err != nil {
			return nil, err
		}
		files = string(b)
	}
	c, err := scanCalibration(s.db.QueryRowContext(ctx, `UPDATE calibrations SET status = $1, error = $2, summary = $3, files = $4, completed_at = $5,
		lease_id = '' WHERE id = $6 AND status = $7 AND lease_id = $8 AND lease_id <> '' RETURNING `+calibrationCols,
		p.Status, p.Error, jsonArg(p.Summary), files, s.t(nowOr(p.Now)), p.ID, store.CalibrationRunning, p.LeaseID))
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := s.CalibrationGet(ctx, p.ID); gerr != nil {
			return nil, gerr
		}
		return nil, fmt.Errorf("calibration %d: %w", p.ID, store.ErrLeaseLost)
	}
	if err != nil {
		return nil, fmt.Errorf("finish calibration: %w", err)
	}
	return c, nil
}

// CalibrationChipSeen implements store.Store.
func (s *Store) CalibrationChipSeen(ctx context.Context, c *store.CalibrationChip) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO calibration_chips (chip, platform, provider, last_seen) VALUES ($1, $2, $3, $4)
		ON CONFLICT (chip) DO UPDATE SET platform = excluded.platform, provider = excluded.provider, last_seen = excluded.last_seen`,
		c.Chip, c.Platform, c.Provider, s.t(nowOr(c.LastSeen)))
	if err != nil {
		return fmt.Errorf("record chip %s: %w", c.Chip, err)
	}
	return nil
}

// CalibrationChipList implements store.Store.
func (s *Store) CalibrationChipList(ctx context.Context) ([]store.CalibrationChip, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT chip, platform, provider, last_seen FROM calibration_chips ORDER BY chip`)
	if err != nil {
		return nil, fmt.Errorf("list chips: %w", err)
	}
	defer rows.Close()
	var out []store.CalibrationChip
	for rows.Next() {
		var c store.CalibrationChip
		if err := rows.Scan(&c.Chip, &c.Platform, &c.Provider, tcol(&c.LastSeen)); err != nil {
			return nil, fmt.Errorf("list chips: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
