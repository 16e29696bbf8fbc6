package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/store"
)

// principal authenticates the request: a bearer token (people) or an x-api-key
// (providers). It returns nil and no error for a request without credentials.
func (s *Server) principal(r *http.Request) (*identity.Principal, error) {
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		cred = strings.TrimSpace(cred)
		switch {
		case strings.EqualFold(scheme, "Bearer") && cred != "":
			return s.auth.Token(r.Context(), cred)
		case strings.EqualFold(scheme, "ApiKey") && cred != "":
			// The v2 providers' form: "ApiKey <user>:<key>".
			if _, key, ok := strings.Cut(cred, ":"); ok {
				cred = key
			}
			return s.auth.APIKey(r.Context(), cred)
		}
		return nil, errorf(http.StatusUnauthorized, "invalid_token: the Authorization header must be 'Bearer <token>'")
	}
	if k := strings.TrimSpace(r.Header.Get("x-api-key")); k != "" {
		return s.auth.APIKey(r.Context(), k)
	}
	return nil, nil
}

// caller requires credentials of either kind.
func (s *Server) caller(r *http.Request) (*identity.Principal, error) {
	p, err := s.principal(r)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, identity.ErrNoCredentials
	}
	return p, nil
}

// user requires a person's token.
func (s *Server) user(r *http.Request) (*identity.Principal, error) {
	p, err := s.caller(r)
	if err != nil {
		return nil, err
	}
	if p.User == nil {
		return nil, errorf(http.StatusForbidden, "this endpoint is for people: send a user's bearer token, not a provider's API key")
	}
	return p, nil
}

// provider requires a provider's API key serving platform ("" for any).
func (s *Server) provider(r *http.Request, platform string) (*identity.Principal, error) {
	p, err := s.caller(r)
	if err != nil {
		return nil, err
	}
	if p.Provider == nil {
		return nil, errorf(http.StatusForbidden, "this endpoint is for hardware providers: send the header x-api-key")
	}
	if platform != "" && !p.Serves(platform) {
		return nil, errorf(http.StatusForbidden, "provider %s does not run the platform %s (it runs %s)", p.Provider.Name, platform, strings.Join(p.Provider.Platforms, ", "))
	}
	return p, nil
}

// asAdmin tells whether the caller is an administrator asking to act as one
// (as_admin=true, as the reference server requires).
func asAdmin(r *http.Request, p *identity.Principal) (bool, error) {
	want, err := newQuery(r).bool("as_admin")
	if err != nil {
		return false, err
	}
	if !want {
		return false, nil
	}
	if !p.Admin() {
		return false, errorf(http.StatusForbidden, "as_admin: %s is not a platform administrator", p.Name())
	}
	return true, nil
}

// canView tells whether the caller may see the collab's jobs and results.
func (s *Server) canView(ctx context.Context, p *identity.Principal, collab string) (bool, error) {
	if p.IsMember(collab) {
		return true, nil
	}
	c, err := s.st.CollabGet(ctx, collab)
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return c.Public, nil
}

func userInfoOf(p *identity.Principal) nmpi.UserInfo {
	u := p.User
	name := strings.TrimSpace(u.GivenName + " " + u.FamilyName)
	if name == "" {
		name = u.Username
	}
	return nmpi.UserInfo{Sub: u.Username, PreferredUsername: u.Username, Name: name, GivenName: u.GivenName, FamilyName: u.FamilyName,
		Email: u.Email, Roles: map[string][]string{"team": p.Teams(), "group": {}}}
}

// handleUserInfo answers like an OpenID Connect userinfo endpoint, in the shape
// the nmpi client reads (preferred_username, sub, roles.team).
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) error {
	p, err := s.user(r)
	if err != nil {
		if p == nil && (err == identity.ErrInvalidToken || err == identity.ErrNoCredentials) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			return reply(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": err.Error(), "detail": err.Error()})
		}
		return err
	}
	return reply(w, http.StatusOK, userInfoOf(p))
}

func (s *Server) issue(ctx context.Context, p *identity.Principal, label string) (*nmpi.Token, error) {
	secret, t, err := identity.IssueToken(ctx, s.st, p.User.Username, label, s.cfg.TokenTTL, s.now())
	if err != nil {
		return nil, err
	}
	return &nmpi.Token{AccessToken: secret, TokenType: "Bearer", ExpiresIn: int64(s.cfg.TokenTTL / time.Second), TokenExpires: nmpi.At(t.ExpiresAt), User: userInfoOf(p)}, nil
}

// handleToken exchanges a username and password for a token (OAuth 2 password
// grant, as a form, or JSON {"username","password"}). 'nmp login' uses it.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	var username, password, label string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct{ Username, Password, Label string }
		if err := s.decode(w, r, &body); err != nil {
			return err
		}
		username, password, label = body.Username, body.Password, body.Label
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return errorf(http.StatusUnprocessableEntity, "request body: %v", err)
		}
		if gt := r.PostForm.Get("grant_type"); gt != "" && gt != "password" {
			return reply(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "detail": "grant_type: only password is supported"})
		}
		username, password, label = r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("label")
	}
	if username == "" || password == "" {
		return errorf(http.StatusUnprocessableEntity, "username and password: both are required")
	}
	p, err := s.auth.Password(r.Context(), username, password, remoteHost(r))
	if err != nil {
		return err
	}
	if label == "" {
		label = "login"
	}
	resp, err := s.issue(r.Context(), p, label)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusOK, resp)
}

// handleTokenRevoke revokes the token the request came with: signing out of
// the web interface ends its session this way.
func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	scheme, secret, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return errorf(http.StatusUnprocessableEntity, "Authorization: send the token to revoke as 'Bearer <token>'")
	}
	t, err := s.st.TokenGetByHash(r.Context(), identity.Hash(strings.TrimSpace(secret)))
	if err != nil {
		return err
	}
	if err := s.st.TokenRevoke(r.Context(), t.ID, s.now()); err != nil {
		return err
	}
	s.auth.Forget()
	return reply(w, http.StatusOK, nil)
}

// The nmpi client's password login (Client(username, password, authorization_endpoint=...))
// scripts a browser: GET {endpoint}/login must redirect to a page whose first
// form action it POSTs the credentials to (with a forced Host header), which
// must redirect to a URL answering JSON with access_token. These handlers play
// that part, with short-lived single-use states and codes.

type loginCode struct {
	base     string // the server's URL as the client reached it
	username string // set once the password was checked
	expires  time.Time
}

func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	// Without a configured URL, links name the address the caller connected
	// to, never the Host header, which the caller writes (and which would put
	// its choice of host into signed links and redirects).
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return scheme + "://" + a.String()
	}
	return scheme + "://127.0.0.1"
}

func randomCode() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// The states and codes live in the store, so that a login that one replica
// started can go on at another behind a load balancer.

func (s *Server) putLogin(ctx context.Context, key string, c loginCode) error {
	v, _ := json.Marshal(map[string]string{"base": c.base, "username": c.username})
	if err := s.st.EphemeralPut(ctx, "login:"+key, string(v), c.expires, s.now()); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return nil
}

func decodeLogin(v string, err error) (loginCode, bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return loginCode{}, false, nil
	}
	if err != nil {
		return loginCode{}, false, fmt.Errorf("login: %w", err)
	}
	var m map[string]string
	if json.Unmarshal([]byte(v), &m) != nil {
		return loginCode{}, false, nil
	}
	return loginCode{base: m["base"], username: m["username"]}, true, nil
}

func (s *Server) takeLogin(ctx context.Context, key string) (loginCode, bool, error) {
	return decodeLogin(s.st.EphemeralTake(ctx, "login:"+key, s.now()))
}

func (s *Server) peekLogin(ctx context.Context, key string) (loginCode, bool, error) {
	return decodeLogin(s.st.EphemeralGet(ctx, "login:"+key, s.now()))
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	state := randomCode()
	base := s.baseURL(r)
	if err := s.putLogin(r.Context(), "state:"+state, loginCode{base: base, expires: s.now().Add(10 * time.Minute)}); err != nil {
		return err
	}
	http.Redirect(w, r, base+"/login/form?state="+url.QueryEscape(state), http.StatusFound)
	return nil
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) error {
	state := r.URL.Query().Get("state")
	c, ok, err := s.peekLogin(r.Context(), "state:"+state)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusBadRequest, "login: unknown or expired state; start again at /login")
	}
	action := html.EscapeString(c.base + "/login/form?state=" + url.QueryEscape(state))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`<!doctype html>
<html><head><title>nmp login</title></head>
<body><h1>Log in to nmp</h1>
<form id="login" method="post" action="` + action + `">
<p><label>Username <input name="username" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit">Log in</button></p>
</form></body></html>
`))
	return nil
}

func (s *Server) handleLoginSubmit(w http.ResponseWriter, r *http.Request) error {
	state := r.URL.Query().Get("state")
	c, ok, err := s.takeLogin(r.Context(), "state:"+state)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusBadRequest, "login: unknown or expired state; start again at /login")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusUnprocessableEntity, "login form: %v", err)
	}
	p, err := s.auth.Password(r.Context(), r.PostForm.Get("username"), r.PostForm.Get("password"), remoteHost(r))
	if err != nil {
		return err
	}
	code := randomCode()
	if err := s.putLogin(r.Context(), "code:"+code, loginCode{base: c.base, username: p.User.Username, expires: s.now().Add(2 * time.Minute)}); err != nil {
		return err
	}
	// The client forces "Host: iam.ebrains.eu" on this request, so the redirect
	// goes to the address recorded when the login started.
	w.Header().Set("Location", c.base+"/auth?code="+url.QueryEscape(code))
	w.WriteHeader(http.StatusFound)
	return nil
}

func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.takeLogin(r.Context(), "code:"+r.URL.Query().Get("code"))
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusBadRequest, "login: unknown, used or expired code; start again at /login")
	}
	u, err := s.st.UserGet(r.Context(), c.username)
	if err != nil {
		return err
	}
	ms, err := s.st.CollabMemberList(r.Context(), &store.CollabMemberListParams{Username: u.Username})
	if err != nil {
		return err
	}
	pr := &identity.Principal{User: u, Roles: map[string]string{}}
	for _, m := range ms {
		pr.Roles[m.Collab] = m.Role
	}
	resp, err := s.issue(r.Context(), pr, "login")
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusOK, resp)
}

// remoteHost is the address of the caller's end of the connection (not a
// header the caller writes), for throttling password guesses.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
