package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// EphemeralPut implements store.Store.
func (s *Store) EphemeralPut(ctx context.Context, key, value string, expires, now time.Time) error {
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ephemeral WHERE expires_at <= $1`, s.d.Time(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ephemeral (key, value, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, key, value, s.d.Time(expires))
		return err
	})
}

// EphemeralGet implements store.Store.
func (s *Store) EphemeralGet(ctx context.Context, key string, now time.Time) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM ephemeral WHERE key = $1 AND expires_at > $2`, key, s.d.Time(now)).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("ephemeral value: %w", notFoundIf(err, "value", key))
	}
	return v, nil
}

// EphemeralTake implements store.Store.
func (s *Store) EphemeralTake(ctx context.Context, key string, now time.Time) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `DELETE FROM ephemeral WHERE key = $1 AND expires_at > $2 RETURNING value`, key, s.d.Time(now)).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("ephemeral value: %w", notFoundIf(err, "value", key))
	}
	return v, nil
}

var _ store.Store = (*Store)(nil)
