package api

import (
	"net/http"
	"sort"
	"strings"
)

// router matches method and path patterns like net/http.ServeMux ("/jobs/{id}",
// "/files/{id}/{path...}") and fills r.PathValue the same way. It exists
// because ServeMux refuses the API's own layout: "/jobs/next/{platform}" beside
// "/jobs/{id}/log" is ambiguous to it, while the nmpi API wants both, with the
// literal segment winning.
type router struct {
	routes []*routeEntry
}

type routeEntry struct {
	method  string
	pattern string
	segs    []string
	handler handlerFunc
}

func newRouter() *router { return &router{} }

func (rt *router) handle(method, pattern string, h handlerFunc) {
	rt.routes = append(rt.routes, &routeEntry{method: method, pattern: pattern, segs: split(pattern), handler: h})
}

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the path values if the pattern matches, and its specificity
// (literal segments count, earlier ones more).
func (e *routeEntry) match(segs []string) (map[string]string, int, bool) {
	vals := map[string]string{}
	score := 0
	for i, ps := range e.segs {
		if strings.HasPrefix(ps, "{") && strings.HasSuffix(ps, "...}") {
			if i >= len(segs) {
				return nil, 0, false
			}
			vals[ps[1:len(ps)-4]] = strings.Join(segs[i:], "/")
			return vals, score, true
		}
		if i >= len(segs) {
			return nil, 0, false
		}
		if strings.HasPrefix(ps, "{") {
			vals[ps[1:len(ps)-1]] = segs[i]
			continue
		}
		if ps != segs[i] {
			return nil, 0, false
		}
		score += 1 << (16 - i)
	}
	if len(segs) != len(e.segs) {
		return nil, 0, false
	}
	return vals, score, true
}

// serve calls the matching route's handler; a path or method no route takes is an error.
func (rt *router) serve(w http.ResponseWriter, r *http.Request) error {
	segs := split(r.URL.Path)
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	var best *routeEntry
	var bestVals map[string]string
	bestScore := -1
	allowed := map[string]bool{}
	for _, e := range rt.routes {
		vals, score, ok := e.match(segs)
		if !ok {
			continue
		}
		allowed[e.method] = true
		if e.method != method {
			continue
		}
		if score > bestScore {
			best, bestVals, bestScore = e, vals, score
		}
	}
	if best == nil {
		if len(allowed) > 0 {
			var ms []string
			for m := range allowed {
				ms = append(ms, m)
			}
			sort.Strings(ms)
			w.Header().Set("Allow", strings.Join(ms, ", "))
			return errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(ms, ", "))
		}
		return errorf(http.StatusNotFound, "no such endpoint: %s (the API is described at /openapi.json)", r.URL.Path)
	}
	for k, v := range bestVals {
		r.SetPathValue(k, v)
	}
	return best.handler(w, r)
}
