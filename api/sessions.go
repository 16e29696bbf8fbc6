package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/store"
)

var sessionStatuses = []string{store.StatusRunning, store.StatusFinished, store.StatusError, store.StatusRemoved}

// handleSessionCreate opens an interactive session for a user (SpiNNaker's
// spalloc does this with its API key). Quota is checked as for jobs.
func (s *Server) handleSessionCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Collab           *string         `json:"collab"`
		UserID           *string         `json:"user_id"`
		HardwarePlatform *string         `json:"hardware_platform"`
		HardwareConfig   json.RawMessage `json:"hardware_config"`
	}
	p, err := s.provider(r, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.decode(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"collab", body.Collab}, {"user_id", body.UserID}, {"hardware_platform", body.HardwarePlatform}} {
		if f.v == nil || *f.v == "" {
			s.fail(w, r, errorf(http.StatusUnprocessableEntity, "%s: field required", f.name))
			return
		}
	}
	if !p.Serves(*body.HardwarePlatform) {
		s.fail(w, r, errorf(http.StatusForbidden, "provider %s does not run the platform %s", p.Provider.Name, *body.HardwarePlatform))
		return
	}
	cfg, err := checkObject("hardware_config", body.HardwareConfig)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.st.SessionInsert(r.Context(), &store.SessionInsertParams{
		Session: store.Session{Collab: *body.Collab, UserID: *body.UserID, HardwarePlatform: *body.HardwarePlatform, HardwareConfig: cfg},
		Now:     s.now(), Reserve: s.reservation(*body.HardwarePlatform)})
	if errors.Is(err, store.ErrQuotaExceeded) {
		s.fail(w, r, errorf(http.StatusForbidden, "You do not have sufficient compute quota to start this session: collab %s has no %s quota left on %s", *body.Collab, s.units(*body.HardwarePlatform), *body.HardwarePlatform))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.sessionOf(x))
}

func (s *Server) handleSessionUpdate(w http.ResponseWriter, r *http.Request) {
	p, err := s.provider(r, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Status        *string         `json:"status"`
		ResourceUsage json.RawMessage `json:"resource_usage"`
	}
	if err := s.decode(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.st.SessionGet(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !p.Serves(x.HardwarePlatform) {
		s.fail(w, r, errorf(http.StatusForbidden, "provider %s does not run the platform %s of session %d", p.Provider.Name, x.HardwarePlatform, id))
		return
	}
	status := store.StatusRunning // the reference's default
	if body.Status != nil {
		status = *body.Status
	}
	if !slices.Contains(sessionStatuses, status) {
		s.fail(w, r, errorf(http.StatusUnprocessableEntity, "status: %q is not one of %s", status, strings.Join(sessionStatuses, ", ")))
		return
	}
	up := store.SessionUpdateParams{ID: id, Status: &status, Now: s.now()}
	if ru := strings.TrimSpace(string(body.ResourceUsage)); ru != "" && ru != "null" {
		var u struct {
			Value *float64 `json:"value"`
			Units string   `json:"units"`
		}
		if err := json.Unmarshal(body.ResourceUsage, &u); err != nil || u.Value == nil || *u.Value < 0 {
			s.fail(w, r, errorf(http.StatusUnprocessableEntity, "resource_usage: expected {\"value\": non-negative number, \"units\": %q}", s.units(x.HardwarePlatform)))
			return
		}
		if !s.cfg.PlatformTable.UnitsMatch(x.HardwarePlatform, u.Units) {
			s.fail(w, r, errorf(http.StatusBadRequest, "resource_usage.units: %s usage is counted in %s, not %q", x.HardwarePlatform, s.units(x.HardwarePlatform), u.Units))
			return
		}
		up.ResourceUsage = u.Value
	}
	x, err = s.st.SessionUpdate(r.Context(), &up)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.sessionOf(x))
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

func (s *Server) handleSessionGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.caller(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.st.SessionGet(r.Context(), id)
	if err == nil {
		err = s.viewSession(r, p, x)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.sessionOf(x))
}

func (s *Server) handleSessionList(w http.ResponseWriter, r *http.Request) {
	p, err := s.caller(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := newQuery(r)
	lp := store.SessionListParams{Status: q.list("status"), Collab: q.list("collab"), UserID: q.list("user_id"), HardwarePlatform: q.list("hardware_platform")}
	if lp.Limit, err = q.int("size", 10); err != nil {
		s.fail(w, r, err)
		return
	}
	if lp.Offset, err = q.int("from_index", 0); err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Provider != nil {
		for _, pl := range lp.HardwarePlatform {
			if !p.Serves(pl) {
				s.fail(w, r, errorf(http.StatusForbidden, "provider %s does not run the platform %s", p.Provider.Name, pl))
				return
			}
		}
		if len(lp.HardwarePlatform) == 0 {
			lp.HardwarePlatform = p.Provider.Platforms
		}
	} else if admin, err := asAdmin(r, p); err != nil {
		s.fail(w, r, err)
		return
	} else if !admin {
		if len(lp.Collab) == 0 {
			if len(lp.UserID) > 1 || (len(lp.UserID) == 1 && lp.UserID[0] != p.User.Username) {
				s.fail(w, r, errorf(http.StatusForbidden, "user_id: without collab you may list only your own sessions"))
				return
			}
			lp.UserID = []string{p.User.Username}
		}
		for _, c := range lp.Collab {
			if !p.IsMember(c) {
				s.fail(w, r, errorf(http.StatusForbidden, "collab %s: %s is not a member", c, p.Name()))
				return
			}
		}
	}
	xs, err := s.st.SessionList(r.Context(), &lp)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]sessionJSON, len(xs))
	for i := range xs {
		out[i] = s.sessionOf(&xs[i])
	}
	writeJSON(w, http.StatusOK, out)
}
