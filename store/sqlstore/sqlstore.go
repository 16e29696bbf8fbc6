// Package sqlstore implements store.Store over database/sql for both of nmp's
// databases. The SQL is written once, in the subset SQLite and PostgreSQL share
// ($n placeholders, RETURNING, ON CONFLICT); a Dialect supplies the few
// differences: how times are kept, row locking, and error classification.
//
// Use it through store/sqlite or store/postgres, which open the database, apply
// their migrations and choose the dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// Dialect is what differs between the databases.
type Dialect struct {
	Name string
	// Time converts a time to the value bound for a time column.
	Time func(time.Time) any
	// Lock is appended to a SELECT to lock the rows of the named table for the
	// transaction ("" where the database serialises writers anyway).
	Lock func(table string) string
	// SkipLocked is appended to a SELECT to lock its rows and skip those locked by others.
	SkipLocked string
	// MigrationLock is run first in the migration transaction ("" for none).
	MigrationLock string
	// WritableCTE: the database runs UPDATE inside WITH (PostgreSQL does, SQLite does not).
	WritableCTE bool
	// Day is an SQL expression for the UTC day of a time column, as whole
	// days since 1970-01-01.
	Day func(col string) string
	// Seconds is an SQL expression for the whole seconds from time column a to time column b.
	Seconds func(a, b string) string
	// IsUnique tells whether err is a unique-constraint violation.
	IsUnique func(error) bool
}

// Store is a store.Store on one database.
type Store struct {
	db *sql.DB
	d  Dialect
}

var _ store.Store = (*Store)(nil)

// New returns a Store on db, which must be migrated already (see Migrate).
func New(db *sql.DB, d Dialect) *Store { return &Store{db: db, d: d} }

// DB returns the underlying database handle.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Migrate applies the migrations in dir of fsys (files NNN_name.sql, applied in
// order, each once, each in its own transaction) and returns the schema version.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS) (int, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	type migration struct {
		version int
		name    string
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return 0, fmt.Errorf("migrate: migration file %q is not named NNN_name.sql", name)
		}
		ms = append(ms, migration{v, name})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	version := 0
	for _, m := range ms {
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			if d.MigrationLock != "" {
				if _, err := tx.ExecContext(ctx, d.MigrationLock); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			text, err := fs.ReadFile(fsys, m.name)
			if err != nil {
				return err
			}
			for _, stmt := range splitStatements(string(text)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%w\nin statement:\n%s", err, stmt)
				}
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		version = m.version
	}
	return version, nil
}

// splitStatements splits a migration at semicolons that end a line. Our
// migrations keep no semicolons inside strings or bodies.
func splitStatements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSpace(cur.String()); s != ";" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, s.db, fn)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// t converts a time for binding; times are kept to the microsecond, in UTC.
func (s *Store) t(tm time.Time) any {
	return s.d.Time(tm.UTC().Truncate(time.Microsecond))
}

// tp converts an optional time.
func (s *Store) tp(tm *time.Time) any {
	if tm == nil {
		return nil
	}
	return s.t(*tm)
}

// nowOr returns tm, or the current time when tm is zero.
func nowOr(tm time.Time) time.Time {
	if tm.IsZero() {
		return time.Now()
	}
	return tm
}

// timeScan reads a time column of either database (time.Time from PostgreSQL,
// microseconds from SQLite).
type timeScan struct {
	dst   *time.Time
	valid bool
}

func (ts *timeScan) Scan(v any) error {
	ts.valid = true
	switch x := v.(type) {
	case nil:
		ts.valid = false
	case time.Time:
		*ts.dst = x.UTC()
	case int64:
		*ts.dst = time.UnixMicro(x).UTC()
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return fmt.Errorf("time column: %w", err)
		}
		*ts.dst = t.UTC()
	default:
		return fmt.Errorf("time column: unexpected %T", v)
	}
	return nil
}

// tcol scans a NOT NULL time column into dst.
func tcol(dst *time.Time) *timeScan { return &timeScan{dst: dst} }

// ntime collects a nullable time column; ptr() gives the result.
type ntime struct {
	t  time.Time
	ts timeScan
}

func (n *ntime) scan() *timeScan { n.ts.dst = &n.t; return &n.ts }
func (n *ntime) ptr() *time.Time {
	if !n.ts.valid {
		return nil
	}
	t := n.t
	return &t
}

func (s *Store) wrapUnique(err error, kind string, key any) error {
	if err != nil && s.d.IsUnique(err) {
		return fmt.Errorf("%s %v: %w", kind, key, store.ErrExists)
	}
	return err
}

// placeholders returns "$from, $from+1, ..." for n values.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

// where builds a WHERE clause from conditions with $n placeholders numbered in order.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	// cond uses ? for each argument; number them.
	var b strings.Builder
	i := 0
	for _, r := range cond {
		if r == '?' {
			w.args = append(w.args, args[i])
			i++
			b.WriteString("$" + strconv.Itoa(len(w.args)))
			continue
		}
		b.WriteRune(r)
	}
	w.conds = append(w.conds, b.String())
}

func (w *where) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	w.add(col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")", args...)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func limitOffset(w *where, limit, offset int) string {
	if limit <= 0 {
		limit = -1
	}
	q := ""
	if limit > 0 {
		w.args = append(w.args, limit)
		q += " LIMIT $" + strconv.Itoa(len(w.args))
	} else {
		// Both databases accept LIMIT with a huge count; OFFSET needs a LIMIT in SQLite.
		w.args = append(w.args, int64(1)<<62)
		q += " LIMIT $" + strconv.Itoa(len(w.args))
	}
	if offset > 0 {
		w.args = append(w.args, offset)
		q += " OFFSET $" + strconv.Itoa(len(w.args))
	}
	return q
}

// SettingGetOrCreate implements store.Store.
func (s *Store) SettingGetOrCreate(ctx context.Context, key, value string) (string, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

func notFoundIf(err error, kind string, key any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.NotFound(kind, key)
	}
	return err
}
