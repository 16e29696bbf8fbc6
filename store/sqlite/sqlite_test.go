package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/sqlite"
	"github.com/nmp-platform/nmp/store/sqlstore"
	"github.com/nmp-platform/nmp/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t testing.TB) store.Store { return storetest.OpenSQLite(t) })
}

// TestStatsBackfill: migration 007 fills the statistics' aggregates from the
// jobs a database already holds.
func TestStatsBackfill(t *testing.T) {
	t.Parallel()
	storetest.CheckMigrationBackfill(t, "migrations/007_stats_daily.sql", sqlstore.StatsBackfill(sqlite.Dialect))
	path := filepath.Join(t.TempDir(), "nmp.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	seed := time.Now().UnixNano() % 1000000
	t.Logf("seed %d", seed)
	storetest.RandomJobs(t, s, seed, 300, nil)
	storetest.UndoStatsMigration(t, s.DB())
	s.Close()
	if s, err = sqlite.Open(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := storetest.CheckStats(context.Background(), s); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
}
