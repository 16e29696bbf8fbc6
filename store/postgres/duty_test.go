package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

// Two servers on one database: a duty's lock goes to one of them, and to
// the other once the first releases it or its session ends.
func TestDutyLock(t *testing.T) {
	u := storetest.PostgresSchemaURL(t)
	a, b := storetest.OpenPostgresURL(t, u), storetest.OpenPostgresURL(t, u)
	ctx := context.Background()
	la, ok, err := a.TryDutyLock(ctx, "rescuer")
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if err := la.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.TryDutyLock(ctx, "rescuer"); err != nil || ok {
		t.Fatalf("second server got the held lock: %v %v", ok, err)
	}
	// Another duty is free.
	lc, ok, err := b.TryDutyLock(ctx, "cleaner")
	if err != nil || !ok {
		t.Fatalf("other duty: %v %v", ok, err)
	}
	lc.Release()
	la.Release()
	lb, ok, err := b.TryDutyLock(ctx, "rescuer")
	if err != nil || !ok {
		t.Fatalf("released lock not granted: %v %v", ok, err)
	}
	// A server that dies (PostgreSQL ends its sessions) loses its locks.
	admin := storetest.OpenPostgresURL(t, u)
	if _, err := admin.DB().ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	if err := lb.Check(ctx); err == nil {
		t.Fatal("a lock of a closed store still checks as held")
	}
	// The backend ends asynchronously.
	var la2 store.DutyLock
	for deadline := time.Now().Add(10 * time.Second); ; {
		la2, ok, err = a.TryDutyLock(ctx, "rescuer")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dead server's lock was not freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	la2.Release()
	// Another schema (another platform's servers) has locks of its own.
	other := storetest.OpenPostgres(t)
	l1, ok1, _ := a.TryDutyLock(ctx, "rescuer")
	l2, ok2, _ := other.TryDutyLock(ctx, "rescuer")
	if !ok1 || !ok2 {
		t.Fatalf("duty locks of two schemas interfere: %v %v", ok1, ok2)
	}
	l1.Release()
	l2.Release()
}
