package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/store"
)

var sessionStatuses = []string{store.StatusRunning, store.StatusFinished, store.StatusError, store.StatusRemoved}

// handleSessionCreate opens an interactive session for a user (SpiNNaker's
// spalloc does this with its API key). Quota is checked as for jobs.
func (s *Server) handleSessionCreate(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Collab           *string         `json:"collab"`
		UserID           *string         `json:"user_id"`
		HardwarePlatform *string         `json:"hardware_platform"`
		HardwareConfig   json.RawMessage `json:"hardware_config"`
	}
	p, err := s.provider(r, "")
	if err != nil {
		return err
	}
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"collab", body.Collab}, {"user_id", body.UserID}, {"hardware_platform", body.HardwarePlatform}} {
		if f.v == nil || *f.v == "" {
			return errorf(http.StatusUnprocessableEntity, "%s: field required", f.name)
		}
	}
	if !p.Serves(*body.HardwarePlatform) {
		return errorf(http.StatusForbidden, "provider %s does not run the platform %s", p.Provider.Name, *body.HardwarePlatform)
	}
	cfg, err := checkObject("hardware_config", body.HardwareConfig)
	if err != nil {
		return err
	}
	x, err := s.st.SessionInsert(r.Context(), &store.SessionInsertParams{
		Session: store.Session{Collab: *body.Collab, UserID: *body.UserID, HardwarePlatform: *body.HardwarePlatform, HardwareConfig: cfg},
		Now:     s.now(), Reserve: s.reservation(*body.HardwarePlatform)})
	if errors.Is(err, store.ErrQuotaExceeded) {
		return errorf(http.StatusForbidden, "You do not have sufficient compute quota to start this session: collab %s has no %s quota left on %s", *body.Collab, s.units(*body.HardwarePlatform), *body.HardwarePlatform)
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, s.sessionOf(x))
}

func (s *Server) handleSessionUpdate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Status        *string         `json:"status"`
		ResourceUsage json.RawMessage `json:"resource_usage"`
	}
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	x, err := s.st.SessionGet(r.Context(), id)
	if err != nil {
		return err
	}
	if !p.Serves(x.HardwarePlatform) {
		return errorf(http.StatusForbidden, "provider %s does not run the platform %s of session %d", p.Provider.Name, x.HardwarePlatform, id)
	}
	status := store.StatusRunning // the reference's default
	if body.Status != nil {
		status = *body.Status
	}
	if !slices.Contains(sessionStatuses, status) {
		return errorf(http.StatusUnprocessableEntity, "status: %q is not one of %s", status, strings.Join(sessionStatuses, ", "))
	}
	up := store.SessionUpdateParams{ID: id, Status: &status, Now: s.now()}
	if ru := strings.TrimSpace(string(body.ResourceUsage)); ru != "" && ru != "null" {
		var u struct {
			Value *float64 `json:"value"`
			Units string   `json:"units"`
		}
		if err := json.Unmarshal(body.ResourceUsage, &u); err != nil || u.Value == nil || *u.Value < 0 {
			return errorf(http.StatusUnprocessableEntity, "resource_usage: expected {\"value\": non-negative number, \"units\": %q}", s.units(x.HardwarePlatform))
		}
		if !s.cfg.PlatformTable.UnitsMatch(x.HardwarePlatform, u.Units) {
			return errorf(http.StatusBadRequest, "resource_usage.units: %s usage is counted in %s, not %q", x.HardwarePlatform, s.units(x.HardwarePlatform), u.Units)
		}
		up.ResourceUsage = u.Value
	}
	x, err = s.st.SessionUpdate(r.Context(), &up)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s.sessionOf(x))
}

// viewSession checks that the caller may see the session.
func (s *Server) viewSession(r *http.Request, p *identity.Principal, x *store.Session) error {
	if p.Provider != nil {
		if p.Serves(x.HardwarePlatform) {
			return nil
		}
	} else if x.UserID == p.User.Username || p.IsMember(x.Collab) || p.Admin() {
		return nil
	}
	return errorf(http.StatusNotFound, "session %d: not found", x.ID)
}

func (s *Server) handleSessionGet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := s.st.SessionGet(r.Context(), id)
	if err == nil {
		err = s.viewSession(r, p, x)
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s.sessionOf(x))
}

func (s *Server) handleSessionList(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	q := newQuery(r)
	var err error
	lp := store.SessionListParams{Status: q.list("status"), Collab: q.list("collab"), UserID: q.list("user_id"), HardwarePlatform: q.list("hardware_platform")}
	if lp.Limit, err = s.pageSize(q, 10); err != nil {
		return err
	}
	if lp.Offset, err = q.int("from_index", 0); err != nil {
		return err
	}
	if p.Provider != nil {
		for _, pl := range lp.HardwarePlatform {
			if !p.Serves(pl) {
				return errorf(http.StatusForbidden, "provider %s does not run the platform %s", p.Provider.Name, pl)
			}
		}
		if len(lp.HardwarePlatform) == 0 {
			lp.HardwarePlatform = p.Provider.Platforms
		}
	} else if admin, err := asAdmin(r, p); err != nil {
		return err
	} else if !admin {
		if len(lp.Collab) == 0 {
			if len(lp.UserID) > 1 || (len(lp.UserID) == 1 && lp.UserID[0] != p.User.Username) {
				return errorf(http.StatusForbidden, "user_id: without collab you may list only your own sessions")
			}
			lp.UserID = []string{p.User.Username}
		}
		for _, c := range lp.Collab {
			if !p.IsMember(c) {
				return errorf(http.StatusForbidden, "collab %s: %s is not a member", c, p.Name())
			}
		}
	}
	xs, err := s.st.SessionList(r.Context(), &lp)
	if err != nil {
		return err
	}
	out := make([]nmpi.Session, len(xs))
	for i := range xs {
		out[i] = s.sessionOf(&xs[i])
	}
	return reply(w, http.StatusOK, out)
}
