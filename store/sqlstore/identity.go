package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/store"
)

const userCols = `username, email, given_name, family_name, password_hash, admin, created_at`

func scanUser(row interface{ Scan(...any) error }) (*store.User, error) {
	var u store.User
	err := row.Scan(&u.Username, &u.Email, &u.GivenName, &u.FamilyName, &u.PasswordHash, &u.Admin, tcol(&u.CreatedAt))
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// UserCreate implements store.Store.
func (s *Store) UserCreate(ctx context.Context, p *store.UserCreateParams) (*store.User, error) {
	row := s.db.QueryRowContext(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+userCols,
		p.Username, p.Email, p.GivenName, p.FamilyName, p.PasswordHash, p.Admin, s.t(nowOr(p.Now)))
	u, err := scanUser(row)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", s.wrapUnique(err, "user", p.Username))
	}
	return u, nil
}

// UserGet implements store.Store.
func (s *Store) UserGet(ctx context.Context, username string) (*store.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = $1`, username))
	if err != nil {
		return nil, notFoundIf(err, "user", username)
	}
	return u, nil
}

// UserList implements store.Store.
func (s *Store) UserList(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// UserUpdate implements store.Store.
func (s *Store) UserUpdate(ctx context.Context, p *store.UserUpdateParams) (*store.User, error) {
	w := &where{}
	var sets []string
	set := func(col string, v any) {
		w.args = append(w.args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(w.args)))
	}
	if p.Email != nil {
		set("email", *p.Email)
	}
	if p.GivenName != nil {
		set("given_name", *p.GivenName)
	}
	if p.FamilyName != nil {
		set("family_name", *p.FamilyName)
	}
	if p.PasswordHash != nil {
		set("password_hash", *p.PasswordHash)
	}
	if p.Admin != nil {
		set("admin", *p.Admin)
	}
	if len(sets) == 0 {
		return s.UserGet(ctx, p.Username)
	}
	w.args = append(w.args, p.Username)
	q := fmt.Sprintf(`UPDATE users SET %s WHERE username = $%d RETURNING `+userCols, strings.Join(sets, ", "), len(w.args))
	u, err := scanUser(s.db.QueryRowContext(ctx, q, w.args...))
	if err != nil {
		return nil, fmt.Errorf("update user: %w", notFoundIf(err, "user", p.Username))
	}
	return u, nil
}

// CollabCreate implements store.Store.
func (s *Store) CollabCreate(ctx context.Context, p *store.CollabCreateParams) (*store.Collab, error) {
	var c store.Collab
	err := s.db.QueryRowContext(ctx, `INSERT INTO collabs (name, title, public, created_at) VALUES ($1, $2, $3, $4) RETURNING name, title, public, created_at`,
		p.Name, p.Title, p.Public, s.t(nowOr(p.Now))).Scan(&c.Name, &c.Title, &c.Public, tcol(&c.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("create collab: %w", s.wrapUnique(err, "collab", p.Name))
	}
	return &c, nil
}

// CollabGet implements store.Store.
func (s *Store) CollabGet(ctx context.Context, name string) (*store.Collab, error) {
	var c store.Collab
	err := s.db.QueryRowContext(ctx, `SELECT name, title, public, created_at FROM collabs WHERE name = $1`, name).
		Scan(&c.Name, &c.Title, &c.Public, tcol(&c.CreatedAt))
	if err != nil {
		return nil, notFoundIf(err, "collab", name)
	}
	return &c, nil
}

// CollabList implements store.Store.
func (s *Store) CollabList(ctx context.Context) ([]store.Collab, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, title, public, created_at FROM collabs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list collabs: %w", err)
	}
	defer rows.Close()
	var out []store.Collab
	for rows.Next() {
		var c store.Collab
		if err := rows.Scan(&c.Name, &c.Title, &c.Public, tcol(&c.CreatedAt)); err != nil {
			return nil, fmt.Errorf("list collabs: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CollabMemberSet implements store.Store.
func (s *Store) CollabMemberSet(ctx context.Context, m *store.Member) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT 1 FROM collabs WHERE name = $1`, m.Collab, "collab"); err != nil {
			return err
		}
		if err := exists(ctx, tx, `SELECT 1 FROM users WHERE username = $1`, m.Username, "user"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO collab_members (collab, username, role) VALUES ($1, $2, $3)
			ON CONFLICT (collab, username) DO UPDATE SET role = excluded.role`, m.Collab, m.Username, m.Role)
		if err != nil {
			return fmt.Errorf("set member: %w", err)
		}
		return nil
	})
}

func exists(ctx context.Context, q querier, query string, key any, kind string) error {
	var one int
	if err := q.QueryRowContext(ctx, query, key).Scan(&one); err != nil {
		return notFoundIf(err, kind, key)
	}
	return nil
}

// CollabMemberRemove implements store.Store.
func (s *Store) CollabMemberRemove(ctx context.Context, collab, username string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM collab_members WHERE collab = $1 AND username = $2`, collab, username)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.NotFound("member", username+" of "+collab)
	}
	return nil
}

// CollabMemberList implements store.Store.
func (s *Store) CollabMemberList(ctx context.Context, p *store.CollabMemberListParams) ([]store.Member, error) {
	w := &where{}
	if p.Collab != "" {
		w.add("collab = ?", p.Collab)
	}
	if p.Username != "" {
		w.add("username = ?", p.Username)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT collab, username, role FROM collab_members`+w.sql()+` ORDER BY collab, username`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.Collab, &m.Username, &m.Role); err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const tokenCols = `id, hash, username, label, created_at, expires_at, revoked_at`

func scanToken(row interface{ Scan(...any) error }) (*store.Token, error) {
	var t store.Token
	var rev ntime
	if err := row.Scan(&t.ID, &t.Hash, &t.Username, &t.Label, tcol(&t.CreatedAt), tcol(&t.ExpiresAt), rev.scan()); err != nil {
		return nil, err
	}
	t.RevokedAt = rev.ptr()
	return &t, nil
}

// TokenCreate implements store.Store.
func (s *Store) TokenCreate(ctx context.Context, t *store.Token) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
		t.ID, t.Hash, t.Username, t.Label, s.t(nowOr(t.CreatedAt)), s.t(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create token: %w", s.wrapUnique(err, "token", t.ID))
	}
	return nil
}

// TokenGetByHash implements store.Store.
func (s *Store) TokenGetByHash(ctx context.Context, hash string) (*store.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, notFoundIf(err, "token", "(by hash)")
	}
	return t, nil
}

// TokenList implements store.Store.
func (s *Store) TokenList(ctx context.Context, username string) ([]store.Token, error) {
	w := &where{}
	if username != "" {
		w.add("username = ?", username)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens`+w.sql()+` ORDER BY created_at, id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// TokenRevoke implements store.Store.
func (s *Store) TokenRevoke(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, s.t(nowOr(at)), id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.NotFound("token", id)
	}
	return nil
}

// ProviderCreate implements store.Store.
func (s *Store) ProviderCreate(ctx context.Context, p *store.Provider) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO providers (name, created_at) VALUES ($1, $2)`, p.Name, s.t(nowOr(p.CreatedAt)))
		if err != nil {
			return fmt.Errorf("create provider: %w", s.wrapUnique(err, "provider", p.Name))
		}
		for _, pl := range p.Platforms {
			if _, err := tx.ExecContext(ctx, `INSERT INTO provider_platforms (provider, platform) VALUES ($1, $2) ON CONFLICT DO NOTHING`, p.Name, pl); err != nil {
				return fmt.Errorf("create provider: %w", err)
			}
		}
		return nil
	})
}

// ProviderGet implements store.Store.
func (s *Store) ProviderGet(ctx context.Context, name string) (*store.Provider, error) {
	var p store.Provider
	if err := s.db.QueryRowContext(ctx, `SELECT name, created_at FROM providers WHERE name = $1`, name).Scan(&p.Name, tcol(&p.CreatedAt)); err != nil {
		return nil, notFoundIf(err, "provider", name)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT platform FROM provider_platforms WHERE provider = $1 ORDER BY platform`, name)
	if err != nil {
		return nil, fmt.Errorf("get provider: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pl string
		if err := rows.Scan(&pl); err != nil {
			return nil, fmt.Errorf("get provider: %w", err)
		}
		p.Platforms = append(p.Platforms, pl)
	}
	return &p, rows.Err()
}

// ProviderList implements store.Store.
func (s *Store) ProviderList(ctx context.Context) ([]store.Provider, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM providers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list providers: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	out := make([]store.Provider, 0, len(names))
	for _, n := range names {
		p, err := s.ProviderGet(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

const keyCols = `id, hash, provider, label, created_at, expires_at, revoked_at`

// APIKeyCreate implements store.Store.
func (s *Store) APIKeyCreate(ctx context.Context, k *store.APIKey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (`+keyCols+`) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
		k.ID, k.Hash, k.Provider, k.Label, s.t(nowOr(k.CreatedAt)), s.tp(k.ExpiresAt))
	if err != nil {
		if s.d.IsUnique(err) {
			return fmt.Errorf("create api key: %w", s.wrapUnique(err, "api key", k.ID))
		}
		if _, gerr := s.ProviderGet(ctx, k.Provider); gerr != nil {
			return fmt.Errorf("create api key: %w", gerr)
		}
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// APIKeyGetByHash implements store.Store.
func (s *Store) APIKeyGetByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	var k store.APIKey
	var exp, rev ntime
	err := s.db.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash = $1`, hash).
		Scan(&k.ID, &k.Hash, &k.Provider, &k.Label, tcol(&k.CreatedAt), exp.scan(), rev.scan())
	if err != nil {
		return nil, notFoundIf(err, "api key", "(by hash)")
	}
	k.ExpiresAt, k.RevokedAt = exp.ptr(), rev.ptr()
	return &k, nil
}

// APIKeyRevoke implements store.Store.
func (s *Store) APIKeyRevoke(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, s.t(nowOr(at)), id)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.NotFound("api key", id)
	}
	return nil
}
