package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/nmp-platform/nmp/store"
)

// DataItemKeptList implements store.Store.
func (s *Store) DataItemKeptList(ctx context.Context, p *store.DataItemKeptListParams) ([]store.DataItem, int, error) {
	cond := `collab = $1 AND stored = $2 AND kept_at IS NOT NULL AND expires_at IS NULL`
	args := []any{p.Collab, true}
	if p.JobID != 0 {
		args = append(args, p.JobID)
		cond += fmt.Sprintf(` AND job_id = $%d`, len(args))
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM data_items WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list kept files: %w", err)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit, max(p.Offset, 0))
	q := fmt.Sprintf(`SELECT `+dataCols+`, kept_at FROM data_items WHERE `+cond+` ORDER BY job_id DESC, path LIMIT $%d OFFSET $%d`, len(args)-1, len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list kept files: %w", err)
	}
	defer rows.Close()
	out := []store.DataItem{}
	for rows.Next() {
		var d store.DataItem
		var size sql.NullInt64
		var exp, kept ntime
		if err := rows.Scan(&d.ID, &d.JobID, &d.Path, &d.URL, &size, &d.Hash, &d.ContentType, &d.Stored, tcol(&d.CreatedAt), exp.scan(), kept.scan()); err != nil {
			return nil, 0, fmt.Errorf("list kept files: %w", err)
		}
		if size.Valid {
			v := size.Int64
			d.Size = &v
		}
		d.ExpiresAt, d.KeptAt = exp.ptr(), kept.ptr()
		out = append(out, d)
	}
	return out, total, rows.Err()
}

// DataItemDelete implements store.Store.
func (s *Store) DataItemDelete(ctx context.Context, jobID int64, path string) (*store.DataItem, error) {
	var out *store.DataItem
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var collab string
		err := tx.QueryRowContext(ctx, `SELECT collab FROM data_items WHERE job_id = $1 AND path = $2`, jobID, path).Scan(&collab)
		if err != nil {
			return notFoundIf(err, "output file", fmt.Sprintf("%s of job %d", path, jobID))
		}
		// The storage quotas first, as uploads lock them, then the file.
		if _, err := s.lockQuotas(ctx, tx, collab, StoragePlatform); err != nil {
			return err
		}
		out, err = scanDataItem(tx.QueryRowContext(ctx, `DELETE FROM data_items WHERE job_id = $1 AND path = $2 RETURNING `+dataCols, jobID, path))
		if err != nil {
			return notFoundIf(err, "output file", fmt.Sprintf("%s of job %d", path, jobID))
		}
		return s.recomputeStorage(ctx, tx, collab)
	})
	return out, err
}
