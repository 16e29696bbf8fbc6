package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
)

// PostgresSchemaURL creates a new, empty schema on the TEST_DATABASE_URL
// server and returns a URL that works in it, for tests that start servers
// as processes of their own; the schema is dropped when the test ends.
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
