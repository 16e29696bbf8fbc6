package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// StoragePlatform is the quota "platform" that grants temporary storage, in StorageUnits.
const (
	StoragePlatform = "Storage"
	StorageUnits    = "GB"
	bytesPerGB      = 1e9
)

const dataCols = `id, job_id, path, url, size, hash, content_type, stored, created_at, expires_at`

func scanDataItem(row interface{ Scan(...any) error }) (*store.DataItem, error) {
	var d store.DataItem
	var size sql.NullInt64
	var exp ntime
	if err := row.Scan(&d.ID, &d.JobID, &d.Path, &d.URL, &size, &d.Hash, &d.ContentType, &d.Stored, tcol(&d.CreatedAt), exp.scan()); err != nil {
		return nil, err
	}
	if size.Valid {
		v := size.Int64
		d.Size = &v
	}
	d.ExpiresAt = exp.ptr()
	return &d, nil
}

// DataItemUpsert implements store.Store.
func (s *Store) DataItemUpsert(ctx context.Context, p *store.DataItemUpsertParams) (*store.DataItem, error) {
	it := p.Item
	var out *store.DataItem
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM jobs WHERE id = $1`, it.JobID, "job"); err != nil {
			return err
		}
		if it.Stored {
			// Lock the collab's storage quotas first so concurrent uploads serialise.
			qs, err := s.lockQuotas(ctx, tx, p.Collab, StoragePlatform)
			if err != nil {
				return err
			}
			var limit float64
			for _, q := range qs {
				limit += q.limit
			}
			var used int64
			err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM data_items WHERE collab = $1 AND stored = $2 AND NOT (job_id = $3 AND path = $4)`,
				p.Collab, true, it.JobID, it.Path).Scan(&used)
			if err != nil {
				return fmt.Errorf("storage usage: %w", err)
			}
			size := int64(0)
			if it.Size != nil {
				size = *it.Size
			}
			if float64(used+size) > limit*bytesPerGB {
				return fmt.Errorf("collab %s stores %d bytes of %d allowed; %s (%d bytes) does not fit: %w",
					p.Collab, used, int64(limit*bytesPerGB), it.Path, size, store.ErrStorageExceeded)
			}
		}
		var err error
		out, err = scanDataItem(tx.QueryRowContext(ctx, `INSERT INTO data_items (job_id, collab, path, url, size, hash, content_type, stored, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (job_id, path) DO UPDATE SET url = excluded.url, size = excluded.size, hash = excluded.hash,
				content_type = excluded.content_type, stored = excluded.stored, created_at = excluded.created_at, expires_at = excluded.expires_at,
				kept_at = NULL
			RETURNING `+dataCols,
			it.JobID, p.Collab, it.Path, it.URL, it.Size, it.Hash, it.ContentType, it.Stored, s.t(nowOr(p.Now)), s.tp(it.ExpiresAt)))
		if err != nil {
			return fmt.Errorf("record output file: %w", err)
		}
		return s.recomputeStorage(ctx, tx, p.Collab)
	})
	return out, err
}

// recomputeStorage sets the usage of the collab's storage quotas from the bytes
// it stores, filling the quotas in order.
func (s *Store) recomputeStorage(ctx context.Context, tx *sql.Tx, collab string) error {
	qs, err := s.lockQuotas(ctx, tx, collab, StoragePlatform)
	if err != nil || len(qs) == 0 {
		return err
	}
	var used int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM data_items WHERE collab = $1 AND stored = $2`, collab, true).Scan(&used); err != nil {
		return fmt.Errorf("storage usage: %w", err)
	}
	rest := float64(used) / bytesPerGB
	for i, q := range qs {
		u := min(rest, q.limit)
		if i == len(qs)-1 {
			u = rest
		}
		rest -= u
		if _, err := tx.ExecContext(ctx, `UPDATE quotas SET usage = $1 WHERE id = $2`, u, q.id); err != nil {
			return fmt.Errorf("storage usage: %w", err)
		}
	}
	return nil
}

// DataItemList implements store.Store.
func (s *Store) DataItemList(ctx context.Context, jobIDs []int64) ([]store.DataItem, error) {
	if len(jobIDs) == 0 {
		return []store.DataItem{}, nil
	}
	args := make([]any, len(jobIDs))
	for i, id := range jobIDs {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+dataCols+` FROM data_items WHERE job_id IN (`+placeholders(1, len(args))+`) ORDER BY job_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list output files: %w", err)
	}
	defer rows.Close()
	out := []store.DataItem{}
	for rows.Next() {
		d, err := scanDataItem(rows)
		if err != nil {
			return nil, fmt.Errorf("list output files: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// DataItemGet implements store.Store.
func (s *Store) DataItemGet(ctx context.Context, jobID int64, path string) (*store.DataItem, error) {
	d, err := scanDataItem(s.db.QueryRowContext(ctx, `SELECT `+dataCols+` FROM data_items WHERE job_id = $1 AND path = $2`, jobID, path))
	if err != nil {
		return nil, notFoundIf(err, "output file", fmt.Sprintf("%s of job %d", path, jobID))
	}
	return d, nil
}

// DataItemExpire implements store.Store.
func (s *Store) DataItemExpire(ctx context.Context, p *store.DataItemExpireParams) ([]store.DataItem, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	var out []store.DataItem
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+dataCols+`, collab FROM data_items WHERE stored = $1 AND expires_at IS NOT NULL AND expires_at < $2 ORDER BY id LIMIT $3`+s.d.SkipLocked,
			true, s.t(nowOr(p.Now)), limit)
		if err != nil {
			return fmt.Errorf("expire files: %w", err)
		}
		collabs := map[string]bool{}
		for rows.Next() {
			var d store.DataItem
			var size sql.NullInt64
			var exp ntime
			var collab string
			if err := rows.Scan(&d.ID, &d.JobID, &d.Path, &d.URL, &size, &d.Hash, &d.ContentType, &d.Stored, tcol(&d.CreatedAt), exp.scan(), &collab); err != nil {
				rows.Close()
				return fmt.Errorf("expire files: %w", err)
			}
			if size.Valid {
				v := size.Int64
				d.Size = &v
			}
			d.ExpiresAt = exp.ptr()
			out = append(out, d)
			collabs[collab] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("expire files: %w", err)
		}
		for _, d := range out {
			if _, err := tx.ExecContext(ctx, `DELETE FROM data_items WHERE id = $1`, d.ID); err != nil {
				return fmt.Errorf("expire files: %w", err)
			}
		}
		for c := range collabs {
			if err := s.recomputeStorage(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// StorageUsage implements store.Store.
func (s *Store) StorageUsage(ctx context.Context, collab string) (used, limit int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM data_items WHERE collab = $1 AND stored = $2`, collab, true).Scan(&used)
	if err != nil {
		return 0, 0, fmt.Errorf("storage usage: %w", err)
	}
	var gb sql.NullFloat64
	err = s.db.QueryRowContext(ctx, `SELECT SUM(q.qlimit) FROM quotas q JOIN projects p ON p.id = q.project_id
		WHERE p.collab = $1 AND p.accepted = $2 AND q.platform = $3`, collab, true, StoragePlatform).Scan(&gb)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("storage limit: %w", err)
	}
	return used, int64(gb.Float64 * bytesPerGB), nil
}

// DataItemRetain implements store.Store.
func (s *Store) DataItemRetain(ctx context.Context, jobID int64, until *time.Time) (int, error) {
	if err := exists(ctx, s.db, `SELECT 1 FROM jobs WHERE id = $1`, jobID, "job"); err != nil {
		return 0, err
	}
	// Kept files remember when they were first kept; a retention end unkeeps them.
	q, arg := `UPDATE data_items SET expires_at = NULL, kept_at = COALESCE(kept_at, $1) WHERE job_id = $2 AND stored = $3`, s.t(time.Now())
	if until != nil {
		q, arg = `UPDATE data_items SET expires_at = $1, kept_at = NULL WHERE job_id = $2 AND stored = $3`, s.t(*until)
	}
	res, err := s.db.ExecContext(ctx, q, arg, jobID, true)
	if err != nil {
		return 0, fmt.Errorf("retain files of job %d: %w", jobID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
