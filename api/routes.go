package api

import (
	_ "embed"
	"net/http"
	"sort"

	"github.com/nmp-platform/nmp/internal/buildinfo"
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
	handler         http.HandlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/", s.handleAbout},
		{"GET", "/openapi.json", s.handleOpenAPI},
		{"GET", "/docs", s.handleDocs},
		{"GET", "/status", s.handleStatusGet},
		{"PUT", "/status", s.handleStatusSet},

		{"GET", "/userinfo", s.handleUserInfo},
		{"POST", "/token", s.handleToken},
		{"GET", "/login", s.handleLogin},
		{"GET", "/login/form", s.handleLoginForm},
		{"POST", "/login/form", s.handleLoginSubmit},
		{"GET", "/auth", s.handleAuth},

		{"GET", "/jobs", s.handleJobList},
		{"POST", "/jobs", s.handleJobSubmit},
		{"GET", "/jobs/{id}", s.handleJobGet},
		{"PUT", "/jobs/{id}", s.handleJobUpdate},
		{"DELETE", "/jobs/{id}", s.handleJobDelete},
		{"GET", "/jobs/{id}/log", s.handleJobLogGet},
		{"PUT", "/jobs/{id}/log", s.handleLogSet},
		{"PATCH", "/jobs/{id}/log", s.handleLogAppend},
		{"GET", "/jobs/{id}/comments", s.handleCommentList},
		{"POST", "/jobs/{id}/comments", s.handleCommentCreate},
		{"PUT", "/jobs/{id}/comments/{cid}", s.handleCommentUpdate},
		{"DELETE", "/jobs/{id}/comments/{cid}", s.handleCommentDelete},
		{"GET", "/jobs/{id}/tags", s.handleTagsGet},
		{"POST", "/jobs/{id}/tags", s.handleTagsAdd},
		{"DELETE", "/jobs/{id}/tags", s.handleTagsRemove},
		{"GET", "/tags", s.handleTagList},
		{"GET", "/jobs/{id}/output_data", s.handleOutputGet},
		{"PUT", "/jobs/{id}/output_data", s.handleOutputCopy},

		{"GET", "/jobs/next/{platform}", s.handleJobNext},
		{"POST", "/jobs/next/{platform}", s.handleJobClaim},
		{"POST", "/jobs/{id}/lease", s.handleLeaseRenew},
		{"PUT", "/jobs/{id}/files/{path...}", s.handleFileUpload},
		{"GET", "/files/{id}/{path...}", s.handleFileDownload},
		{"POST", "/code", s.handleCodeUpload},
		{"GET", "/code/{name}", s.handleCodeDownload},

		{"GET", "/projects", s.handleProjectList},
		{"POST", "/projects", s.handleProjectCreate},
		{"GET", "/projects/{id}", s.handleProjectGet},
		{"PUT", "/projects/{id}", s.handleProjectUpdate},
		{"DELETE", "/projects/{id}", s.handleProjectDelete},
		{"GET", "/projects/{id}/quotas", s.handleQuotaList},
		{"POST", "/projects/{id}/quotas", s.handleQuotaCreate},
		{"GET", "/projects/{id}/quotas/{qid}", s.handleQuotaGet},
		{"PUT", "/projects/{id}/quotas/{qid}", s.handleQuotaUpdate},
		{"DELETE", "/projects/{id}/quotas/{qid}", s.handleQuotaDelete},
		{"GET", "/collabs", s.handleCollabList},

		{"GET", "/sessions", s.handleSessionList},
		{"POST", "/sessions", s.handleSessionCreate},
		{"GET", "/sessions/{id}", s.handleSessionGet},
		{"PUT", "/sessions/{id}", s.handleSessionUpdate},

		{"GET", "/statistics/job-count", s.handleStatsJobCount},
		{"GET", "/statistics/cumulative-job-count", s.handleStatsCumulativeJobCount},
		{"GET", "/statistics/cumulative-user-count", s.handleStatsCumulativeUserCount},
		{"GET", "/statistics/active-user-count", s.handleStatsActiveUserCount},
		{"GET", "/statistics/queue-length", s.handleStatsQueueLength},
		{"GET", "/statistics/job-duration", s.handleStatsJobDuration},
		{"GET", "/statistics/cumulative-project-count", s.handleStatsCumulativeProjectCount},
		{"GET", "/statistics/resource-usage", s.handleStatsResourceUsage},
		{"GET", "/statistics/per-user", s.handleStatsPerUser},
	}
}

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3 document.
func OpenAPI() []byte { return openAPI }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!doctype html><html><head><title>nmp job queue API</title></head><body>
<h1>nmp job queue API</h1>
<p>This server speaks the EBRAINS Neuromorphic Computing Platform's v3 job queue API, with nmp's additions.
Its OpenAPI document is at <a href="/openapi.json">/openapi.json</a>; the project's docs/server.md explains it.</p>
</body></html>
`))
}

type aboutJSON struct {
	About          string                    `json:"about"`
	Version        string                    `json:"version"`
	Server         string                    `json:"server"`
	Status         string                    `json:"status"`
	Platforms      map[string]platformStatus `json:"platforms"`
	Links          map[string]string         `json:"links"`
	Authentication map[string]string         `json:"authentication"`
}

func (s *Server) handleAbout(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	s.mu.RLock()
	plats := map[string]platformStatus{}
	for _, p := range s.cfg.PlatformTable.Names() {
		ps, ok := s.platforms[p]
		if !ok {
			ps = platformStatus{Status: "ok"}
		}
		if why, ok := s.cfg.Unavailable[p]; ok {
			ps = platformStatus{Status: "unavailable", Message: why}
		}
		plats[p] = ps
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, aboutJSON{
		About:     "This is the nmp Neuromorphic Computing Job Queue API, compatible with the EBRAINS Neuromorphic Computing Platform's v3 API.",
		Version:   "3",
		Server:    "nmp " + buildinfo.Version(),
		Status:    s.statusText(),
		Platforms: plats,
		Links:     map[string]string{"documentation": "/docs", "openapi": "/openapi.json"},
		Authentication: map[string]string{"server": base, "userinfo": base + "/userinfo", "token": base + "/token",
			"login": base + "/login"},
	})
}

type statusJSON struct {
	Status    string                    `json:"status"`
	Platforms map[string]platformStatus `json:"platforms,omitempty"`
}

func (s *Server) handleStatusGet(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	plats := map[string]platformStatus{}
	for k, v := range s.platforms {
		plats[k] = v
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, statusJSON{Status: s.statusText(), Platforms: plats})
}

// handleStatusSet lets an administrator set the service status (ok, down,
// read-only, with a message after a colon) and per-platform statuses, which
// GET / reports so that users see a machine is down before they submit.
func (s *Server) handleStatusSet(w http.ResponseWriter, r *http.Request) {
	p, err := s.user(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !p.Admin() {
		s.fail(w, r, errorf(http.StatusForbidden, "only a platform administrator may set the service status"))
		return
	}
	var body statusJSON
	if err := s.decode(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Status != "" {
		if err := s.setStatus(body.Status); err != nil {
			s.fail(w, r, errorf(http.StatusUnprocessableEntity, "%v", err))
			return
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
			s.fail(w, r, errorf(http.StatusUnprocessableEntity, "platforms: %q is not a platform of this server", k))
			return
		}
		switch v.Status {
		case "ok", "degraded", "down":
		default:
			s.fail(w, r, errorf(http.StatusUnprocessableEntity, "platforms.%s.status: %q is not ok, degraded or down", k, v.Status))
			return
		}
	}
	s.mu.Lock()
	for _, k := range names {
		s.platforms[k] = body.Platforms[k]
	}
	s.mu.Unlock()
	s.handleStatusGet(w, r)
}
