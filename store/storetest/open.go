// Package storetest is the conformance suite every store driver passes, and the
// helpers that give tests a fresh, real database: a temporary SQLite file, or a
// new schema on the PostgreSQL server named by TEST_DATABASE_URL.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/nmp-platform/nmp/store/postgres"
	"github.com/nmp-platform/nmp/store/sqlite"
	"github.com/nmp-platform/nmp/store/sqlstore"
)

// Driver opens a fresh, empty, migrated store for one test.
type Driver struct {
	Name string
	Open func(t testing.TB) *sqlstore.Store
}

// Drivers returns the SQLite driver and, when TEST_DATABASE_URL is set, the PostgreSQL one.
func Drivers() []Driver {
	return []Driver{{"sqlite", OpenSQLite}, {"postgres", OpenPostgres}}
}

// ForEach runs fn as a subtest once per driver.
func ForEach(t *testing.T, fn func(t *testing.T, d Driver)) {
	for _, d := range Drivers() {
		t.Run(d.Name, func(t *testing.T) { fn(t, d) })
	}
}

// OpenSQLite opens a store on a new SQLite file in the test's temporary directory.
func OpenSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "nmp.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresURL returns TEST_DATABASE_URL. When it is unset the PostgreSQL half
// of the tests is skipped, loudly, except under CI (CI=true), where it fails:
// scripts/test always starts a server.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		msg := "TEST_DATABASE_URL is not set: the PostgreSQL half of this test is NOT RUN (scripts/test starts a throwaway PostgreSQL server and sets it)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI must run it")
		}
		t.Skip("SKIPPED: " + msg)
	}
	return u
}

// OpenPostgres opens a store on a new schema of the TEST_DATABASE_URL server,
// dropped when the test ends.
func OpenPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	return OpenPostgresURL(t, PostgresSchemaURL(t))
}

// PostgresSchemaURL creates a new schema on the TEST_DATABASE_URL server,
// dropped when the test ends, and returns the URL of a database whose
// search path is that schema: several stores (or servers) opened on it share
// one database, as replicas do.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	schema := "nmp_test_" + randHex(6)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect to postgres: %v", err)
	}
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgresURL opens a store on the database at u, closed when the test ends.
func OpenPostgresURL(t testing.TB, u string) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), u, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
