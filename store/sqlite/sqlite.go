// Package sqlite is nmp's embedded store: a single SQLite file, through the
// pure-Go modernc.org/sqlite, so that `nmp serve` needs no other server.
//
// SQLite has one writer at a time; the store uses a single connection, which
// makes every store transaction (claiming a job, reserving quota) serial and
// therefore atomic without row locks.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/nmp-platform/nmp/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's: times as microseconds since the epoch, no row locks.
var Dialect = sqlstore.Dialect{
	Name:       "sqlite",
	Time:       func(t time.Time) any { return t.UnixMicro() },
	Lock:       func(string) string { return "" },
	SkipLocked: "",
	Day:        func(col string) string { return "(" + col + " / 86400000000)" },
	Seconds:    func(a, b string) string { return "((" + b + " - " + a + ") / 1000000)" },
	IsUnique: func(err error) bool {
		var se *sqlite.Error
		if errors.As(err, &se) {
			return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
}

// Open opens (creating if needed) the database file at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	// Write transactions take the lock at BEGIN, so that another process (an
	// `nmp admin` command beside a running server) waits instead of failing.
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if _, err := sqlstore.Migrate(ctx, db, Dialect, sub); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return sqlstore.New(db, Dialect), nil
}
