package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/nmp-platform/nmp/store"
)

const projectCols = `id, collab, owner, title, abstract, description, access, created_at, submission_date, decision_date, accepted, decision_reason`

func scanProject(row interface{ Scan(...any) error }) (*store.Project, error) {
	var p store.Project
	var sub, dec ntime
	if err := row.Scan(&p.ID, &p.Collab, &p.Owner, &p.Title, &p.Abstract, &p.Description, &p.Access, tcol(&p.CreatedAt), sub.scan(), dec.scan(), &p.Accepted, &p.DecisionReason); err != nil {
		return nil, err
	}
	p.SubmissionDate, p.DecisionDate = sub.ptr(), dec.ptr()
	p.Quotas = []store.Quota{}
	return &p, nil
}

const quotaCols = `id, project_id, platform, units, qlimit, usage, reserved`

func scanQuota(row interface{ Scan(...any) error }) (*store.Quota, error) {
	var q store.Quota
	if err := row.Scan(&q.ID, &q.ProjectID, &q.Platform, &q.Units, &q.Limit, &q.Usage, &q.Reserved); err != nil {
		return nil, err
	}
	return &q, nil
}

// fillQuotas loads the quotas of many projects in one query.
func fillQuotas(ctx context.Context, q querier, ps []store.Project) error {
	if len(ps) == 0 {
		return nil
	}
	idx := make(map[string]int, len(ps))
	args := make([]any, len(ps))
	for i := range ps {
		idx[ps[i].ID] = i
		args[i] = ps[i].ID
	}
	rows, err := q.QueryContext(ctx, `SELECT `+quotaCols+` FROM quotas WHERE project_id IN (`+placeholders(1, len(args))+`) ORDER BY id`, args...)
	if err != nil {
		return fmt.Errorf("read quotas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		qt, err := scanQuota(rows)
		if err != nil {
			return fmt.Errorf("read quotas: %w", err)
		}
		i := idx[qt.ProjectID]
		ps[i].Quotas = append(ps[i].Quotas, *qt)
	}
	return rows.Err()
}

// ProjectCreate implements store.Store.
func (s *Store) ProjectCreate(ctx context.Context, p *store.Project) (*store.Project, error) {
	access := p.Access
	if access == "" {
		access = "test"
	}
	out, err := scanProject(s.db.QueryRowContext(ctx, `INSERT INTO projects (`+projectCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+projectCols,
		p.ID, p.Collab, p.Owner, p.Title, p.Abstract, p.Description, access, s.t(nowOr(p.CreatedAt)), s.tp(p.SubmissionDate), s.tp(p.DecisionDate), p.Accepted, p.DecisionReason))
	if err != nil {
		return nil, fmt.Errorf("create project: %w", s.wrapUnique(err, "project", p.ID))
	}
	return out, nil
}

func (s *Store) getProject(ctx context.Context, q querier, id string, lock bool) (*store.Project, error) {
	query := `SELECT ` + projectCols + ` FROM projects WHERE id = $1`
	if lock {
		query += s.d.Lock("projects")
	}
	p, err := scanProject(q.QueryRowContext(ctx, query, id))
	if err != nil {
		return nil, notFoundIf(err, "project", id)
	}
	ps := []store.Project{*p}
	if err := fillQuotas(ctx, q, ps); err != nil {
		return nil, err
	}
	return &ps[0], nil
}

// ProjectGet implements store.Store.
func (s *Store) ProjectGet(ctx context.Context, id string) (*store.Project, error) {
	return s.getProject(ctx, s.db, id, false)
}

// ProjectList implements store.Store.
func (s *Store) ProjectList(ctx context.Context, p *store.ProjectListParams) ([]store.Project, error) {
	w := &where{}
	switch p.Status {
	case "":
	case store.ProjectInPreparation:
		w.add("submission_date IS NULL")
	case store.ProjectAccepted:
		w.add("submission_date IS NOT NULL AND accepted = ?", true)
	case store.ProjectUnderReview:
		w.add("submission_date IS NOT NULL AND accepted = ? AND decision_date IS NULL", false)
	case store.ProjectRejected:
		w.add("submission_date IS NOT NULL AND accepted = ? AND decision_date IS NOT NULL", false)
	default:
		return nil, fmt.Errorf("list projects: unknown status %q", p.Status)
	}
	w.in("collab", p.Collab)
	w.in("owner", p.Owner)
	q := `SELECT ` + projectCols + ` FROM projects` + w.sql() + ` ORDER BY created_at, id` + limitOffset(w, p.Limit, p.Offset)
	rows, err := s.db.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	out := []store.Project{}
	for rows.Next() {
		pr, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("list projects: %w", err)
		}
		out = append(out, *pr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	rows.Close()
	return out, fillQuotas(ctx, s.db, out)
}

// ProjectUpdate implements store.Store.
func (s *Store) ProjectUpdate(ctx context.Context, p *store.ProjectUpdateParams) (*store.Project, error) {
	now := nowOr(p.Now)
	var out *store.Project
	err := s.tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.getProject(ctx, tx, p.ID, true)
		if err != nil {
			return err
		}
		w := &where{}
		var cols []string
		set := func(col string, v any) {
			w.args = append(w.args, v)
			cols = append(cols, fmt.Sprintf("%s = $%d", col, len(w.args)))
		}
		for _, f := range []struct {
			col string
			v   *string
		}{{"title", p.Title}, {"abstract", p.Abstract}, {"description", p.Description}, {"owner", p.Owner}, {"access", p.Access}} {
			if f.v != nil {
				set(f.col, *f.v)
			}
		}
		if p.Submit && cur.SubmissionDate == nil {
			set("submission_date", s.t(now))
		}
		if p.Unsubmit {
			if cur.DecisionDate != nil {
				return fmt.Errorf("project %s has been %s: %w", p.ID, cur.Status(), store.ErrConflict)
			}
			set("submission_date", nil)
		}
		if p.Decide != nil {
			if cur.DecisionDate != nil {
				return fmt.Errorf("project %s has been %s already: %w", p.ID, cur.Status(), store.ErrConflict)
			}
			if cur.SubmissionDate == nil {
				set("submission_date", s.t(now))
			}
			set("decision_date", s.t(now))
			set("accepted", *p.Decide)
			if p.DecisionReason != nil {
				set("decision_reason", *p.DecisionReason)
			}
			if *p.Decide {
				for _, q := range p.Grant {
					if _, err := tx.ExecContext(ctx, `INSERT INTO quotas (project_id, platform, units, qlimit, usage, reserved) VALUES ($1, $2, $3, $4, 0, 0)`,
						p.ID, q.Platform, q.Units, q.Limit); err != nil {
						return fmt.Errorf("grant quota: %w", err)
					}
				}
			}
		}
		if len(cols) > 0 {
			w.args = append(w.args, p.ID)
			q := fmt.Sprintf(`UPDATE projects SET %s WHERE id = $%d`, strings.Join(cols, ", "), len(w.args))
			if _, err := tx.ExecContext(ctx, q, w.args...); err != nil {
				return fmt.Errorf("update project %s: %w", p.ID, err)
			}
		}
		if p.Decide != nil && *p.Decide {
			if err := s.recomputeStorage(ctx, tx, cur.Collab); err != nil {
				return err
			}
		}
		out, err = s.getProject(ctx, tx, p.ID, false)
		return err
	})
	return out, err
}

// ProjectDelete implements store.Store.
func (s *Store) ProjectDelete(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getProject(ctx, tx, id, true); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM quotas WHERE project_id = $1`, id); err != nil {
			return fmt.Errorf("delete project %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM projects WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete project %s: %w", id, err)
		}
		return nil
	})
}

// QuotaCreate implements store.Store.
func (s *Store) QuotaCreate(ctx context.Context, q *store.Quota) (*store.Quota, error) {
	var out *store.Quota
	err := s.tx(ctx, func(tx *sql.Tx) error {
		pr, err := s.getProject(ctx, tx, q.ProjectID, true)
		if err != nil {
			return err
		}
		out, err = scanQuota(tx.QueryRowContext(ctx, `INSERT INTO quotas (project_id, platform, units, qlimit, usage, reserved) VALUES ($1, $2, $3, $4, $5, 0) RETURNING `+quotaCols,
			q.ProjectID, q.Platform, q.Units, q.Limit, q.Usage))
		if err != nil {
			return fmt.Errorf("create quota: %w", err)
		}
		if q.Platform == StoragePlatform && pr.Accepted {
			return s.recomputeStorage(ctx, tx, pr.Collab)
		}
		return nil
	})
	return out, err
}

// QuotaGet implements store.Store.
func (s *Store) QuotaGet(ctx context.Context, id int64) (*store.Quota, error) {
	q, err := scanQuota(s.db.QueryRowContext(ctx, `SELECT `+quotaCols+` FROM quotas WHERE id = $1`, id))
	if err != nil {
		return nil, notFoundIf(err, "quota", id)
	}
	return q, nil
}

// QuotaUpdate implements store.Store.
func (s *Store) QuotaUpdate(ctx context.Context, p *store.QuotaUpdateParams) (*store.Quota, error) {
	w := &where{}
	var cols []string
	if p.Limit != nil {
		w.args = append(w.args, *p.Limit)
		cols = append(cols, fmt.Sprintf("qlimit = $%d", len(w.args)))
	}
	if p.Usage != nil {
		w.args = append(w.args, *p.Usage)
		cols = append(cols, fmt.Sprintf("usage = $%d", len(w.args)))
	}
	if len(cols) == 0 {
		return s.QuotaGet(ctx, p.ID)
	}
	w.args = append(w.args, p.ID)
	q, err := scanQuota(s.db.QueryRowContext(ctx, fmt.Sprintf(`UPDATE quotas SET %s WHERE id = $%d RETURNING `+quotaCols, strings.Join(cols, ", "), len(w.args)), w.args...))
	if err != nil {
		return nil, notFoundIf(err, "quota", p.ID)
	}
	return q, nil
}

// QuotaDelete implements store.Store.
func (s *Store) QuotaDelete(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM quotas WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete quota: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.NotFound("quota", id)
	}
	return nil
}
