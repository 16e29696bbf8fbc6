// Package postgres is nmp's production store: PostgreSQL through pgx.
//
// Concurrent servers and runners are safe: the next job is taken with
// SELECT … FOR UPDATE SKIP LOCKED, and quota rows are locked in id order
// while a job is admitted or charged.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/nmp-platform/nmp/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is PostgreSQL's.
var Dialect = sqlstore.Dialect{
	Name:          "postgres",
	Time:          func(t time.Time) any { return t },
	Lock:          func(table string) string { return " FOR UPDATE OF " + table },
	SkipLocked:    " FOR UPDATE SKIP LOCKED",
	MigrationLock: "SELECT pg_advisory_xact_lock(7311997)",
	WritableCTE:   true,
	Day:           func(col string) string { return "CAST(FLOOR(EXTRACT(EPOCH FROM " + col + ") / 86400) AS BIGINT)" },
	Seconds:       func(a, b string) string { return "CAST(FLOOR(EXTRACT(EPOCH FROM (" + b + " - " + a + "))) AS BIGINT)" },
	IsUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
}

// Options tune the connection pool. The zero value is fine.
type Options struct {
	// MaxConns caps open connections (default 16).
	MaxConns int
}

// Open connects to the database at url (postgres://user@host:port/db?...) and brings its schema up to date.
func Open(ctx context.Context, url string, opts Options) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if _, err := sqlstore.Migrate(ctx, db, Dialect, sub); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(db, Dialect), nil
}
