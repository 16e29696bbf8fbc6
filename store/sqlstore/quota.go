package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/nmp-platform/nmp/store"
)

// Quota arithmetic shared by jobs and sessions. Every function here runs inside
// the caller's transaction and locks the quota rows it reads (PostgreSQL), in id
// order, so that concurrent admissions and charges serialise per collab and platform.

type quotaRow struct {
	id                     int64
	limit, usage, reserved float64
}

// lockQuotas returns the quotas of the collab's accepted projects on the platform, oldest first.
func (s *Store) lockQuotas(ctx context.Context, tx *sql.Tx, collab, platform string) ([]quotaRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT q.id, q.qlimit, q.usage, q.reserved FROM quotas q JOIN projects p ON p.id = q.project_id
		WHERE p.collab = $1 AND p.accepted = $2 AND q.platform = $3 ORDER BY q.id`+s.d.Lock("q"), collab, true, platform)
	if err != nil {
		return nil, fmt.Errorf("read quotas: %w", err)
	}
	defer rows.Close()
	var out []quotaRow
	for rows.Next() {
		var q quotaRow
		if err := rows.Scan(&q.id, &q.limit, &q.usage, &q.reserved); err != nil {
			return nil, fmt.Errorf("read quotas: %w", err)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// reserve admits a job or session: with amount > 0 it holds amount on the first
// quota with that much room; with amount == 0 it only requires a quota whose
// usage and holds are below its limit. It returns the quota held (nil for none).
func (s *Store) reserve(ctx context.Context, tx *sql.Tx, collab, platform string, amount float64) (*int64, error) {
	if amount < 0 {
		return nil, nil
	}
	qs, err := s.lockQuotas(ctx, tx, collab, platform)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		room := q.limit - q.usage - q.reserved
		if (amount == 0 && room > 0) || (amount > 0 && room >= amount-1e-12) {
			if amount > 0 {
				if _, err := tx.ExecContext(ctx, `UPDATE quotas SET reserved = reserved + $1 WHERE id = $2`, amount, q.id); err != nil {
					return nil, fmt.Errorf("reserve quota: %w", err)
				}
			}
			id := q.id
			return &id, nil
		}
	}
	return nil, fmt.Errorf("collab %s on %s: %w", collab, platform, store.ErrQuotaExceeded)
}

// release gives back a hold made by reserve.
func release(ctx context.Context, tx *sql.Tx, quotaID *int64, amount float64) error {
	if quotaID == nil || amount == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE quotas SET reserved = CASE WHEN reserved > $1 THEN reserved - $1 ELSE 0 END WHERE id = $2`, amount, *quotaID)
	if err != nil {
		return fmt.Errorf("release quota: %w", err)
	}
	return nil
}

// charge adds delta to the usage of the collab's quotas on the platform, filling
// each to its limit before the next. What exceeds every limit is charged to the
// last quota, so an overrun is recorded (and blocks further admissions) instead
// of being lost. A negative delta (a corrected report) is refunded newest first.
func (s *Store) charge(ctx context.Context, tx *sql.Tx, collab, platform string, delta float64) error {
	if delta == 0 {
		return nil
	}
	qs, err := s.lockQuotas(ctx, tx, collab, platform)
	if err != nil {
		return err
	}
	if len(qs) == 0 {
		return nil
	}
	add := make([]float64, len(qs))
	if delta > 0 {
		rest := delta
		for i, q := range qs {
			room := q.limit - q.usage
			if room <= 0 {
				continue
			}
			take := min(room, rest)
			add[i] += take
			rest -= take
			if rest <= 0 {
				break
			}
		}
		if rest > 0 {
			add[len(qs)-1] += rest
		}
	} else {
		rest := -delta
		for i := len(qs) - 1; i >= 0 && rest > 0; i-- {
			take := min(qs[i].usage, rest)
			add[i] -= take
			rest -= take
		}
	}
	for i, q := range qs {
		if add[i] == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE quotas SET usage = usage + $1 WHERE id = $2`, add[i], q.id); err != nil {
			return fmt.Errorf("charge quota: %w", err)
		}
	}
	return nil
}
