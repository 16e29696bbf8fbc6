package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/store"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// reply writes v as the answer, for handlers to end with.
func reply(w http.ResponseWriter, status int, v any) error {
	writeJSON(w, status, v)
	return nil
}

// writeError answers {"detail": msg}, the shape the nmpi client reads.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, nmpi.ErrorBody{Detail: msg})
}

// handlerFunc is an endpoint. It writes its answer, or returns an error and
// writes nothing: fail turns the error into the answer, in one place for all.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// principalHandler is an endpoint for authenticated callers. Who may call it is
// said once, in the route table, by the adapter that wraps it: forUser (a
// person's token), forCaller (a token or a provider's key) or forProvider.
type principalHandler func(w http.ResponseWriter, r *http.Request, p *identity.Principal) error

func (s *Server) forUser(h principalHandler) handlerFunc   { return s.authenticated(s.user, h) }
func (s *Server) forCaller(h principalHandler) handlerFunc { return s.authenticated(s.caller, h) }
func (s *Server) forProvider(h principalHandler) handlerFunc {
	return s.authenticated(s.anyProvider, h)
}

func (s *Server) anyProvider(r *http.Request) (*identity.Principal, error) { return s.provider(r, "") }

func (s *Server) authenticated(auth func(*http.Request) (*identity.Principal, error), h principalHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := auth(r)
		if err != nil {
			return err
		}
		return h(w, r, p)
	}
}

// httpError is an error with the status it answers.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// fail answers err: httpErrors with their status, store and identity errors
// with theirs, anything else as a 500 whose details go to the log only. It is
// the one place where a handler's error becomes an answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "internal error; the server's log has the details"
	var he *httpError
	var mbe *http.MaxBytesError
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.As(err, &mbe):
		status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than the server accepts (%d bytes)", mbe.Limit)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, http.ErrBodyReadAfterClose), errors.Is(err, os.ErrDeadlineExceeded):
		status, msg = http.StatusBadRequest, "request body: could not be read to its end ("+err.Error()+")"
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(throttled.RetryAfter.Seconds())+1))
		status, msg = http.StatusTooManyRequests, err.Error()
	case errors.Is(err, identity.ErrNoCredentials):
		status, msg = http.StatusUnauthorized, err.Error()
	case errors.Is(err, identity.ErrInvalidToken):
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		status, msg = http.StatusUnauthorized, err.Error()
	case errors.Is(err, identity.ErrInvalidKey), errors.Is(err, identity.ErrBadPassword):
		status, msg = http.StatusUnauthorized, err.Error()
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrLeaseLost):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, store.ErrQuotaExceeded):
		status, msg = http.StatusForbidden, "You do not have sufficient compute quota to submit this job ("+err.Error()+")"
	case errors.Is(err, store.ErrStorageExceeded):
		status, msg = http.StatusInsufficientStorage, err.Error()
	default:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	}
	writeError(w, status, msg)
}

// decode reads a JSON body into v. Unknown fields are ignored (runners PUT whole
// job documents); type errors name the field.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		// The client sent less than it announced, or stopped sending.
		return errorf(http.StatusBadRequest, "request body: could not be read to its end (%v)", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return errorf(http.StatusUnprocessableEntity, "request body: empty; a JSON document was expected")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return errorf(http.StatusUnprocessableEntity, "%s: expected %s, got JSON %s", te.Field, te.Type, te.Value)
		case errors.As(err, &te):
			return errorf(http.StatusUnprocessableEntity, "request body: expected %s, got JSON %s", te.Type, te.Value)
		case errors.As(err, &se):
			return errorf(http.StatusUnprocessableEntity, "request body: invalid JSON at byte %d: %v", se.Offset, err)
		default:
			return errorf(http.StatusUnprocessableEntity, "request body: %v", err)
		}
	}
	return nil
}

// Query parameters, parsed as the reference's clients send them.

type query struct{ v url.Values }

func newQuery(r *http.Request) query { return query{r.URL.Query()} }

// list returns a repeatable parameter (status=a&status=b); comma-separated values are split too.
func (q query) list(name string) []string {
	var out []string
	for _, v := range q.v[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (q query) str(name string) string { return strings.TrimSpace(q.v.Get(name)) }

// bool accepts true/True/TRUE/1/yes and false/False/0/no (Python urlencodes True).
func (q query) bool(name string) (bool, error) {
	v := strings.ToLower(q.str(name))
	switch v {
	case "", "false", "0", "no", "off":
		return false, nil
	case "true", "1", "yes", "on":
		return true, nil
	}
	return false, errorf(http.StatusUnprocessableEntity, "%s: %q is not a boolean (use true or false)", name, q.str(name))
}

func (q query) int(name string, def int) (int, error) {
	v := q.str(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusUnprocessableEntity, "%s: %q is not a non-negative integer", name, v)
	}
	return n, nil
}

// ListCodeBytes: in listings, a job's code longer than this is left out
// (empty); GET /jobs/{id} has it.
const ListCodeBytes = 4096

// pageSize reads a listing's page size, at most Config.MaxPageSize.
func (s *Server) pageSize(q query, def int) (int, error) {
	n, err := q.int("size", def)
	if err == nil && n > s.cfg.MaxPageSize {
		n = s.cfg.MaxPageSize
	}
	return n, err
}

// date parses 2024-05-01 or an RFC 3339 time.
func (q query) date(name string) (*time.Time, error) {
	v := q.str(name)
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return &t, nil
		}
	}
	return nil, errorf(http.StatusUnprocessableEntity, "%s: %q is not a date (use 2024-05-01 or 2024-05-01T12:00:00Z)", name, v)
}

// ts writes a time as the API does, for messages.
func ts(t time.Time) string { return nmpi.At(t).String() }

func datep(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format("2006-01-02")
	return &s
}

func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "%s %q: not a number", strings.TrimSuffix(name, "_id"), v)
	}
	return id, nil
}
