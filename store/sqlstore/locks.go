package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/nmp-platform/nmp/store"
)

// DutyLock is store.DutyLock: a lock on a named background duty (the rescuer, the cleaner,
// nightly calibrations): of all the servers sharing a database, only the one
// that holds a duty's lock runs it.
type DutyLock struct {
	conn *sql.Conn // PostgreSQL: the session holding the advisory lock; nil on SQLite
	key  int64
	once sync.Once
}

// TryDutyLock takes the lock of a duty if no other server holds it. On
// PostgreSQL it is a session advisory lock on a connection of its own, held
// until Release or until that session ends (a server that dies loses its
// locks when PostgreSQL notices the connection is gone). On SQLite, a
// single server's database by nature, it is always granted.
func (s *Store) TryDutyLock(ctx context.Context, name string) (store.DutyLock, bool, error) {
	if s.d.Name != "postgres" {
		return &DutyLock{}, true, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("duty lock %s: %w", name, err)
	}
	// The key is of nmp's own, per duty and schema (servers of different
	// platforms may share a PostgreSQL database in schemas of their own).
	var key int64
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT k, pg_try_advisory_lock(k) FROM (SELECT hashtextextended('nmp duty ' || current_schema() || ' ' || $1, 7311997) AS k) AS x", name).Scan(&key, &ok); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("duty lock %s: %w", name, err)
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return &DutyLock{conn: conn, key: key}, true, nil
}

// Check tells whether the lock is still held (its session is alive).
func (l *DutyLock) Check(ctx context.Context) error {
	if l.conn == nil {
		return nil
	}
	var held bool
	err := l.conn.QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objid = ($1::bigint & 4294967295)::oid AND classid = (($1::bigint >> 32) & 4294967295)::oid)", l.key).Scan(&held)
	if err != nil {
		return fmt.Errorf("duty lock: %w", err)
	}
	if !held {
		return fmt.Errorf("duty lock: no longer held")
	}
	return nil
}

// Release gives the lock up (closing its session).
func (l *DutyLock) Release() {
	l.once.Do(func() {
		if l.conn == nil {
			return
		}
		ctx := context.Background()
		_, _ = l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.key)
		// Closing returns the connection to the pool; a connection that
		// failed is discarded by database/sql.
		l.conn.Close()
	})
}
