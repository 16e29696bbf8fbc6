package postgres_test

import (
	"testing"

	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t)
	storetest.Exercise(t, func(t testing.TB) store.Store { return storetest.OpenPostgres(t) })
}
