package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/postgres"
	"github.com/nmp-platform/nmp/store/sqlstore"
	"github.com/nmp-platform/nmp/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t)
	storetest.Exercise(t, func(t testing.TB) store.Store { return storetest.OpenPostgres(t) })
}

// TestStatsBackfill: migration 007 fills the statistics' aggregates from the
// jobs a database already holds.
func TestStatsBackfill(t *testing.T) {
	storetest.CheckMigrationBackfill(t, "migrations/007_stats_daily.sql", sqlstore.StatsBackfill(postgres.Dialect))
	u := storetest.PostgresSchemaURL(t)
	s := storetest.OpenPostgresURL(t, u)
	seed := time.Now().UnixNano() % 1000000
	t.Logf("seed %d", seed)
	storetest.RandomJobs(t, s, seed, 300, nil)
	storetest.UndoStatsMigration(t, s.DB())
	s = storetest.OpenPostgresURL(t, u)
	if err := storetest.CheckStats(context.Background(), s); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
}
