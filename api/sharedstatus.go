package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/nmp-platform/nmp/nmpi"
)

// The service and platform statuses an administrator sets with PUT /status
// are kept in the store, so that every server on the database (replicas
// behind a load balancer) reports and applies them; each server reads them
// again at most every statusRefresh. A server's -status applies until an
// administrator sets one.

const (
	statusKey     = "service-status"
	statusRefresh = 2 * time.Second
)

type storedStatus struct {
	Status    string                         `json:"status"`
	Message   string                         `json:"message"`
	Platforms map[string]nmpi.PlatformStatus `json:"platforms"`
}

// saveStatus stores this server's statuses for the others.
func (s *Server) saveStatus(ctx context.Context) error {
	s.mu.RLock()
	v := storedStatus{Status: s.status, Message: s.message, Platforms: maps.Clone(s.platforms)}
	s.mu.RUnlock()
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.st.EphemeralPut(ctx, statusKey, string(b), now.AddDate(100, 0, 0), now); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	s.mu.Lock()
	s.statusAt = now
	s.mu.Unlock()
	return nil
}

// loadStatus takes up the statuses another server stored, if it is time to look.
func (s *Server) loadStatus(ctx context.Context) {
	fresh := func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.now().Sub(s.statusAt) < statusRefresh
	}
	if fresh() {
		return
	}
	s.statusLoad.Lock()
	defer s.statusLoad.Unlock()
	if fresh() {
		return
	}
	v, err := s.st.EphemeralGet(ctx, statusKey, s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statusAt = s.now()
	var st storedStatus
	if err != nil || json.Unmarshal([]byte(v), &st) != nil || st.Status == "" {
		// None stored (or the store is away): keep what this server has.
		return
	}
	s.status, s.message = st.Status, st.Message
	s.platforms = st.Platforms
	if s.platforms == nil {
		s.platforms = map[string]nmpi.PlatformStatus{}
	}
}
