package api

import (
	_ "embed"
	"net/http"
	"sort"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/internal/buildinfo"
	"github.com/nmp-platform/nmp/nmpi"
)

// Route is one endpoint of the API.
type Route struct {
	Method  string
	Pattern string
}

// Routes lists the endpoints the server answers (openapi.json must describe exactly these).
func (s *Server) Routes() []Route {
	rs := s.routes()
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = Route{Method: r.method, Pattern: r.pattern}
	}
	return out
}

type route struct {
	method, pattern string
	handler         handlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/", s.handleAbout},
		{"GET", "/openapi.json", s.handleOpenAPI},
		{"GET", "/docs", s.handleDocs},
		{"GET", "/status", s.handleStatusGet},
		{"PUT", "/status", s.forUser(s.handleStatusSet)},

		{"GET", "/userinfo", s.handleUserInfo},
		{"POST", "/token", s.handleToken},
		{"DELETE", "/token", s.forUser(s.handleTokenRevoke)},
		{"GET", "/login", s.handleLogin},
		{"GET", "/login/form", s.handleLoginForm},
		{"POST", "/login/form", s.handleLoginSubmit},
		{"GET", "/auth", s.handleAuth},

		{"GET", "/jobs", s.forCaller(s.handleJobList)},
		{"POST", "/jobs", s.forUser(s.handleJobSubmit)},
		{"GET", "/jobs/{id}", s.forCaller(s.handleJobGet)},
		{"PUT", "/jobs/{id}", s.handleJobUpdate},
		{"DELETE", "/jobs/{id}", s.forUser(s.handleJobDelete)},
		{"GET", "/jobs/{id}/log", s.forCaller(s.handleJobLogGet)},
		{"PUT", "/jobs/{id}/log", s.handleLogSet},
		{"PATCH", "/jobs/{id}/log", s.handleLogAppend},
		{"GET", "/jobs/{id}/comments", s.forUser(s.handleCommentList)},
		{"POST", "/jobs/{id}/comments", s.forUser(s.handleCommentCreate)},
		{"PUT", "/jobs/{id}/comments/{cid}", s.forUser(s.handleCommentUpdate)},
		{"DELETE", "/jobs/{id}/comments/{cid}", s.forUser(s.handleCommentDelete)},
		{"GET", "/jobs/{id}/tags", s.forCaller(s.handleTagsGet)},
		{"POST", "/jobs/{id}/tags", s.forUser(s.handleTagsAdd)},
		{"DELETE", "/jobs/{id}/tags", s.forUser(s.handleTagsRemove)},
		{"GET", "/tags", s.forUser(s.handleTagList)},
		{"GET", "/jobs/{id}/output_data", s.forCaller(s.handleOutputGet)},
		{"PUT", "/jobs/{id}/output_data", s.forUser(s.handleOutputCopy)},

		{"GET", "/jobs/next/{platform}", s.handleJobNext},
		{"POST", "/jobs/next/{platform}", s.handleJobClaim},
		{"POST", "/jobs/{id}/lease", s.handleLeaseRenew},
		{"PUT", "/jobs/{id}/files/{path...}", s.handleFileUpload},
		{"GET", "/files/{id}/{path...}", s.handleFileDownload},
		{"POST", "/code", s.forUser(s.handleCodeUpload)},
		{"GET", "/code/{name}", s.handleCodeDownload},

		{"GET", "/projects", s.forCaller(s.handleProjectList)},
		{"POST", "/projects", s.forUser(s.handleProjectCreate)},
		{"GET", "/projects/{id}", s.forCaller(s.handleProjectGet)},
		{"PUT", "/projects/{id}", s.forUser(s.handleProjectUpdate)},
		{"DELETE", "/projects/{id}", s.forUser(s.handleProjectDelete)},
		{"GET", "/projects/{id}/quotas", s.forCaller(s.handleQuotaList)},
		{"POST", "/projects/{id}/quotas", s.forUser(s.handleQuotaCreate)},
		{"GET", "/projects/{id}/quotas/{qid}", s.forCaller(s.handleQuotaGet)},
		{"PUT", "/projects/{id}/quotas/{qid}", s.forCaller(s.handleQuotaUpdate)},
		{"DELETE", "/projects/{id}/quotas/{qid}", s.forUser(s.handleQuotaDelete)},
		{"GET", "/collabs", s.forUser(s.handleCollabList)},
		{"GET", "/collabs/{id}/storage", s.forUser(s.handleCollabStorage)},
		{"DELETE", "/collabs/{id}/storage/{job}/{path...}", s.forUser(s.handleCollabStorageDelete)},

		{"GET", "/sessions", s.forCaller(s.handleSessionList)},
		{"POST", "/sessions", s.handleSessionCreate},
		{"GET", "/sessions/{id}", s.forCaller(s.handleSessionGet)},
		{"PUT", "/sessions/{id}", s.forProvider(s.handleSessionUpdate)},

		{"GET", "/calibrations", s.forCaller(s.handleCalibrationList)},
		{"POST", "/calibrations", s.forUser(s.handleCalibrationCreate)},
		{"POST", "/calibrations/next", s.handleCalibrationNext},
		{"GET", "/calibrations/{id}", s.forCaller(s.handleCalibrationGet)},
		{"PUT", "/calibrations/{id}", s.handleCalibrationFinish},
		{"GET", "/calibrations/{id}/files/{name}", s.forCaller(s.handleCalibrationFileGet)},
		{"PUT", "/calibrations/{id}/files/{name}", s.handleCalibrationFileUpload},

		{"GET", "/statistics/job-count", s.statsCached(s.handleStatsJobCount)},
		{"GET", "/statistics/cumulative-job-count", s.statsCached(s.handleStatsCumulativeJobCount)},
		{"GET", "/statistics/cumulative-user-count", s.statsCached(s.handleStatsCumulativeUserCount)},
		{"GET", "/statistics/active-user-count", s.statsCached(s.handleStatsActiveUserCount)},
		{"GET", "/statistics/queue-length", s.handleStatsQueueLength},
		{"GET", "/statistics/job-duration", s.statsCached(s.handleStatsJobDuration)},
		{"GET", "/statistics/cumulative-project-count", s.statsCached(s.handleStatsCumulativeProjectCount)},
		{"GET", "/statistics/resource-usage", s.statsCached(s.handleStatsResourceUsage)},
		{"GET", "/statistics/per-user", s.forUser(s.handleStatsPerUser)},
	}
}

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3 document.
func OpenAPI() []byte { return openAPI }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
	return nil
}

func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!doctype html><html><head><title>nmp job queue API</title></head><body>
<h1>nmp job queue API</h1>
<p>This server speaks the EBRAINS Neuromorphic Computing Platform's v3 job queue API, with nmp's additions.
Its OpenAPI document is at <a href="/openapi.json">/openapi.json</a>; the project's docs/server.md explains it.</p>
</body></html>
`))
	return nil
}

func (s *Server) handleAbout(w http.ResponseWriter, r *http.Request) error {
	base := s.baseURL(r)
	s.mu.RLock()
	plats := map[string]nmpi.PlatformStatus{}
	for _, p := range s.cfg.PlatformTable.Names() {
		ps, ok := s.platforms[p]
		if !ok {
			ps = nmpi.PlatformStatus{Status: "ok"}
		}
		if why, ok := s.cfg.Unavailable[p]; ok {
			ps = nmpi.PlatformStatus{Status: "unavailable", Message: why}
		}
		plats[p] = ps
	}
	s.mu.RUnlock()
	s.platformCalibrations(r, plats)
	writeJSON(w, http.StatusOK, nmpi.About{
		About:     "This is the nmp Neuromorphic Computing Job Queue API, compatible with the EBRAINS Neuromorphic Computing Platform's v3 API.",
		Version:   "3",
		Server:    "nmp " + buildinfo.Version(),
		Status:    s.statusText(),
		Platforms: plats,
		Links:     map[string]string{"documentation": "/docs", "openapi": "/openapi.json"},
		Authentication: map[string]string{"server": base, "userinfo": base + "/userinfo", "token": base + "/token",
			"login": base + "/login"},
	})
	return nil
}

type statusJSON struct {
	Status    string                         `json:"status"`
	Platforms map[string]nmpi.PlatformStatus `json:"platforms,omitempty"`
}

func (s *Server) handleStatusGet(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	plats := map[string]nmpi.PlatformStatus{}
	for k, v := range s.platforms {
		plats[k] = v
	}
	s.mu.RUnlock()
	s.platformCalibrations(r, plats)
	return reply(w, http.StatusOK, statusJSON{Status: s.statusText(), Platforms: plats})
}

// handleStatusSet lets an administrator set the service status (ok, down,
// read-only, with a message after a colon) and per-platform statuses, which
// GET / reports so that users see a machine is down before they submit.
func (s *Server) handleStatusSet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	if !p.Admin() {
		return errorf(http.StatusForbidden, "only a platform administrator may set the service status")
	}
	var body statusJSON
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	if body.Status != "" {
		if err := s.setStatus(body.Status); err != nil {
			return errorf(http.StatusUnprocessableEntity, "%v", err)
		}
	}
	names := make([]string, 0, len(body.Platforms))
	for k := range body.Platforms {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := body.Platforms[k]
		if !s.knownPlatform(k) {
			return errorf(http.StatusUnprocessableEntity, "platforms: %q is not a platform of this server", k)
		}
		switch v.Status {
		case "ok", "degraded", "down":
		default:
			return errorf(http.StatusUnprocessableEntity, "platforms.%s.status: %q is not ok, degraded or down", k, v.Status)
		}
	}
	s.mu.Lock()
	for _, k := range names {
		s.platforms[k] = body.Platforms[k]
	}
	s.mu.Unlock()
	if err := s.saveStatus(r.Context()); err != nil {
		return err
	}
	return s.handleStatusGet(w, r)
}
