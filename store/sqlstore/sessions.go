package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/nmp-platform/nmp/store"
)

const sessionCols = `id, collab, user_id, status, hardware_platform, hardware_config, started_at, ended_at, resource_usage, charged, hold_quota_id, hold_amount`

func scanSession(row interface{ Scan(...any) error }) (*store.Session, error) {
	var x store.Session
	var cfg sql.NullString
	var ended ntime
	var usage sql.NullFloat64
	var hold sql.NullInt64
	if err := row.Scan(&x.ID, &x.Collab, &x.UserID, &x.Status, &x.HardwarePlatform, &cfg, tcol(&x.StartedAt), ended.scan(), &usage, &x.Charged, &hold, &x.HoldAmount); err != nil {
		return nil, err
	}
	x.HardwareConfig = rawJSON(cfg)
	x.EndedAt = ended.ptr()
	if usage.Valid {
		v := usage.Float64
		x.ResourceUsage = &v
	}
	if hold.Valid {
		v := hold.Int64
		x.HoldQuotaID = &v
	}
	return &x, nil
}

// SessionInsert implements store.Store.
func (s *Store) SessionInsert(ctx context.Context, p *store.SessionInsertParams) (*store.Session, error) {
	x := p.Session
	var out *store.Session
	err := s.tx(ctx, func(tx *sql.Tx) error {
		hold, err := s.reserve(ctx, tx, x.Collab, x.HardwarePlatform, p.Reserve)
		if err != nil {
			return err
		}
		amount := 0.0
		if hold != nil && p.Reserve > 0 {
			amount = p.Reserve
		}
		status := x.Status
		if status == "" {
			status = store.StatusRunning
		}
		out, err = scanSession(tx.QueryRowContext(ctx, `INSERT INTO sessions (collab, user_id, status, hardware_platform, hardware_config, started_at, hold_quota_id, hold_amount)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+sessionCols,
			x.Collab, x.UserID, status, x.HardwarePlatform, jsonArg(x.HardwareConfig), s.t(nowOr(p.Now)), hold, amount))
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	})
	return out, err
}

// SessionGet implements store.Store.
func (s *Store) SessionGet(ctx context.Context, id int64) (*store.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, notFoundIf(err, "session", id)
	}
	return x, nil
}

// SessionList implements store.Store.
func (s *Store) SessionList(ctx context.Context, p *store.SessionListParams) ([]store.Session, error) {
	w := &where{}
	w.in("status", p.Status)
	w.in("collab", p.Collab)
	w.in("user_id", p.UserID)
	w.in("hardware_platform", p.HardwarePlatform)
	q := `SELECT ` + sessionCols + ` FROM sessions` + w.sql() + ` ORDER BY id DESC` + limitOffset(w, p.Limit, p.Offset)
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []store.Session{}
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, *x)
	}
	return out, rows.Err()
}

// SessionUpdate implements store.Store.
func (s *Store) SessionUpdate(ctx context.Context, p *store.SessionUpdateParams) (*store.Session, error) {
	now := nowOr(p.Now)
	var out *store.Session
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`+s.d.Lock("sessions"), p.ID))
		if err != nil {
			return notFoundIf(err, "session", p.ID)
		}
		w := &where{}
		var cols []string
		set := func(col string, v any) {
			w.args = append(w.args, v)
			cols = append(cols, fmt.Sprintf("%s = $%d", col, len(w.args)))
		}
		if (p.Status != nil && *p.Status != cur.Status && store.Terminal(*p.Status)) || (p.ResourceUsage != nil && store.Terminal(cur.Status)) ||
			(p.ResourceUsage != nil && p.Status != nil && store.Terminal(*p.Status)) {
			if _, err := s.lockQuotas(ctx, tx, cur.Collab, cur.HardwarePlatform); err != nil {
				return err
			}
		}
		status := cur.Status
		if p.Status != nil && *p.Status != cur.Status {
			if store.Terminal(cur.Status) {
				return fmt.Errorf("session %d is %s; it cannot become %s: %w", cur.ID, cur.Status, *p.Status, store.ErrConflict)
			}
			status = *p.Status
			set("status", status)
			if store.Terminal(status) {
				set("ended_at", s.t(now))
				set("hold_quota_id", nil)
				set("hold_amount", 0.0)
				if err := release(ctx, tx, cur.HoldQuotaID, cur.HoldAmount); err != nil {
					return err
				}
			}
		}
		usage := cur.ResourceUsage
		if p.ResourceUsage != nil {
			usage = p.ResourceUsage
			set("resource_usage", *usage)
		}
		if (status == store.StatusFinished || status == store.StatusError) && usage != nil && *usage != cur.Charged {
			if err := s.charge(ctx, tx, cur.Collab, cur.HardwarePlatform, *usage-cur.Charged); err != nil {
				return err
			}
			set("charged", *usage)
		}
		if len(cols) > 0 {
			w.args = append(w.args, cur.ID)
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE sessions SET %s WHERE id = $%d`, strings.Join(cols, ", "), len(w.args)), w.args...); err != nil {
				return fmt.Errorf("update session %d: %w", cur.ID, err)
			}
		}
		out, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, cur.ID))
		return err
	})
	return out, err
}
