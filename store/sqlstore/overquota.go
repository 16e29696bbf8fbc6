package sqlstore

import (
	"context"
	"fmt"

	"github.com/nmp-platform/nmp/store"
)

// JobsOverQuota implements store.Store. Running jobs holding quota are
// ranked by claim (started_at, then id) within their collab and platform,
// and a job is over when the holds up to and including its own exceed what
// the collab's accepted quotas on the platform have left.
func (s *Store) JobsOverQuota(ctx context.Context, p *store.JobsOverQuotaParams) ([]store.JobOverQuota, error) {
	if p.Collab != "" && p.Platform != "" {
		// Mostly every hold fits: one sum of each side tells.
		var held, room float64
		err := s.db.QueryRowContext(ctx, `SELECT
			(SELECT COALESCE(SUM(hold_amount), 0) FROM jobs WHERE status = '`+store.StatusRunning+`' AND collab = $1 AND hardware_platform = $2
				AND hold_quota_id IS NOT NULL),
			(SELECT COALESCE(SUM(CASE WHEN q.qlimit > q.usage THEN q.qlimit - q.usage ELSE 0 END), 0)
				FROM quotas q JOIN projects pr ON pr.id = q.project_id WHERE pr.collab = $1 AND q.platform = $2 AND pr.accepted = $3)`,
			p.Collab, p.Platform, true).Scan(&held, &room)
		if err != nil {
			return nil, fmt.Errorf("jobs over quota: %w", err)
		}
		if held <= room+1e-9 {
			return nil, nil
		}
	}
	args := []any{true, store.StatusRunning}
	filter, qfilter := ``, ``
	if p.Collab != "" {
		args = append(args, p.Collab)
		filter += fmt.Sprintf(` AND collab = $%d`, len(args))
		qfilter += fmt.Sprintf(` AND pr.collab = $%d`, len(args))
	}
	if p.Platform != "" {
		args = append(args, p.Platform)
		filter += fmt.Sprintf(` AND hardware_platform = $%d`, len(args))
		qfilter += fmt.Sprintf(` AND q.platform = $%d`, len(args))
	}
	outer := ``
	if p.JobID != 0 {
		args = append(args, p.JobID)
		outer = fmt.Sprintf(` AND r.id = $%d`, len(args))
	}
	rows, err := s.db.QueryContext(ctx, `WITH left_ AS (
			SELECT pr.collab, q.platform, SUM(CASE WHEN q.qlimit > q.usage THEN q.qlimit - q.usage ELSE 0 END) AS room
			FROM quotas q JOIN projects pr ON pr.id = q.project_id
			WHERE pr.accepted = $1`+qfilter+` GROUP BY pr.collab, q.platform),
		run AS (
			SELECT id, collab, hardware_platform, hold_amount,
				SUM(hold_amount) OVER (PARTITION BY collab, hardware_platform ORDER BY started_at, id) AS upto
			FROM jobs WHERE status = $2 AND hold_quota_id IS NOT NULL AND hold_amount > 0`+filter+`)
		SELECT r.id, r.collab, r.hardware_platform, r.hold_amount, r.upto, COALESCE(l.room, 0)
		FROM run r LEFT JOIN left_ l ON l.collab = r.collab AND l.platform = r.hardware_platform
		WHERE r.upto > COALESCE(l.room, 0) + 1e-9`+outer+` ORDER BY r.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs over quota: %w", err)
	}
	defer rows.Close()
	var out []store.JobOverQuota
	for rows.Next() {
		var j store.JobOverQuota
		var upto float64
		if err := rows.Scan(&j.ID, &j.Collab, &j.Platform, &j.Hold, &upto, &j.Left); err != nil {
			return nil, fmt.Errorf("jobs over quota: %w", err)
		}
		j.Before = upto - j.Hold
		out = append(out, j)
	}
	return out, rows.Err()
}
