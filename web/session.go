package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/nmp-platform/nmp/nmpi"
)

// Cookies. The session cookie holds the token a sign-in created (HttpOnly:
// scripts never see it; SameSite=Strict: other sites' pages cannot send it;
// Secure when the page came over TLS); signing out revokes the token.
const (
	sessionCookie = "nmp_session"
	preCookie     = "nmp_signin" // ties the sign-in form to this browser (login CSRF)
	collabCookie  = "nmp_collab" // the collab last chosen
)

// session is the signed-in person.
type session struct {
	api      *caller
	token    string
	Username string
	Name     string
	// Roles maps the person's collabs to their role in each.
	Roles map[string]string
	// Admin: a platform administrator.
	Admin bool
	// Collabs lists the collabs for the switcher.
	Collabs []string
	current string
}

// collab is the collab the pages show: ?collab=, else the last one chosen, else the first.
func (s *session) collab(r *http.Request) string {
	if s.current != "" {
		return s.current
	}
	return ""
}

// CanEdit tells whether the person may submit and change in the collab.
func (s *session) CanEdit(collab string) bool {
	role := s.Roles[collab]
	return role == "editor" || role == "administrator" || collab == "private-"+s.Username
}

func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func (w *Web) callerFor(r *http.Request, token string) *caller {
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return &caller{hc: w.hc, base: scheme + "://" + r.Host, proto: scheme, token: token}
}

// session reads the session cookie and asks the API who it belongs to.
func (w *Web) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errors.New("no session")
	}
	api := w.callerFor(r, c.Value)
	var ui nmpi.UserInfo
	if err := api.do(r.Context(), http.MethodGet, "/userinfo", nil, &ui); err != nil {
		return nil, err
	}
	s := &session{api: api, token: c.Value, Username: ui.PreferredUsername, Name: ui.Name, Roles: ui.Collabs()}
	s.Roles["private-"+s.Username] = "administrator"
	for c := range s.Roles {
		s.Collabs = append(s.Collabs, c)
	}
	sort.Slice(s.Collabs, func(i, j int) bool {
		pi, pj := strings.HasPrefix(s.Collabs[i], "private-"), strings.HasPrefix(s.Collabs[j], "private-")
		if pi != pj {
			return pj
		}
		return s.Collabs[i] < s.Collabs[j]
	})
	// Administrators are those the API lets act as such.
	var none []nmpi.Project
	s.Admin = api.do(r.Context(), http.MethodGet, "/projects?size=0&as_admin=true", nil, &none) == nil
	s.current = r.URL.Query().Get("collab")
	if s.current == "" {
		if c, err := r.Cookie(collabCookie); err == nil && s.Roles[c.Value] != "" {
			s.current = c.Value
		}
	}
	if s.current == "" && len(s.Collabs) > 0 {
		s.current = s.Collabs[0]
	}
	return s, nil
}

func (w *Web) mac(parts ...string) string {
	m := hmac.New(sha256.New, w.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// csrfToken is the token every form of the session carries.
func (w *Web) csrfToken(s *session) string { return w.mac("csrf", s.token) }

// checkForm refuses a form that does not come from one of our pages: it must
// carry the session's CSRF token, and a browser's Origin, if sent, must be ours.
func (w *Web) checkForm(r *http.Request, s *session) error {
	if err := sameOrigin(r); err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	got := r.PostFormValue("csrf")
	if got == "" || !hmac.Equal([]byte(got), []byte(w.csrfToken(s))) {
		return errors.New("this form was not sent from one of this server's pages (its CSRF token is missing or wrong); reload the page and send it again")
	}
	return nil
}

func sameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host {
		return errors.New("this form was sent from another site (Origin " + o + "); it is refused")
	}
	return nil
}

// maxForm caps a form without files; forms with files (a new job) have their own cap.
const maxForm = 1 << 20

func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(nil, r.Body, maxJobForm)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return pagef(http.StatusRequestEntityTooLarge, "the form could not be read: %v", err)
		}
		return nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return pagef(http.StatusRequestEntityTooLarge, "the form could not be read: %v", err)
	}
	return nil
}

func setCookie(rw http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(rw, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode})
}

func clearSession(rw http.ResponseWriter, r *http.Request) {
	setCookie(rw, r, sessionCookie, "", -1)
}

func randomValue() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// safeNext keeps a redirect after sign-in on our own pages.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix + "/jobs"
	}
	return next
}

type signInView struct {
	Next, Pre, Username, Error string
}

func (w *Web) handleSignInForm(rw http.ResponseWriter, r *http.Request) {
	w.signInPage(rw, r, http.StatusOK, signInView{Next: safeNext(r.URL.Query().Get("next"))})
}

func (w *Web) signInPage(rw http.ResponseWriter, r *http.Request, status int, v signInView) {
	pre := randomValue()
	setCookie(rw, r, preCookie, pre, 3600)
	v.Pre = w.mac("signin", pre)
	w.render(rw, r, nil, status, "signin", v)
}

func (w *Web) handleSignIn(rw http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		w.errorPage(rw, r, nil, http.StatusForbidden, err.Error())
		return
	}
	if err := parseForm(r); err != nil {
		w.errorPage(rw, r, nil, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	v := signInView{Next: safeNext(r.PostFormValue("next")), Username: strings.TrimSpace(r.PostFormValue("username"))}
	pre, err := r.Cookie(preCookie)
	if err != nil || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(w.mac("signin", pre.Value))) {
		v.Error = "The sign-in form expired or did not come from this server; please try again."
		w.signInPage(rw, r, http.StatusForbidden, v)
		return
	}
	password := r.PostFormValue("password")
	if v.Username == "" || password == "" {
		v.Error = "Username and password: both are required."
		w.signInPage(rw, r, http.StatusUnprocessableEntity, v)
		return
	}
	api := w.callerFor(r, "")
	form := url.Values{"grant_type": {"password"}, "username": {v.Username}, "password": {password}, "label": {w.cfg.SessionLabel}}
	var tok nmpi.Token
	if err := api.raw(r.Context(), http.MethodPost, "/token", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", &tok); err != nil {
		if st := apiStatus(err); st == http.StatusUnauthorized || st == http.StatusForbidden || st == http.StatusNotFound {
			v.Error = "Wrong username or password."
			w.signInPage(rw, r, http.StatusUnauthorized, v)
			return
		}
		w.fail(rw, r, nil, err)
		return
	}
	setCookie(rw, r, preCookie, "", -1)
	setCookie(rw, r, sessionCookie, tok.AccessToken, 0)
	http.Redirect(rw, r, v.Next, http.StatusSeeOther)
}

func (w *Web) handleSignOut(rw http.ResponseWriter, r *http.Request, s *session) error {
	if err := s.api.do(r.Context(), http.MethodDelete, "/token", nil, nil); err != nil && apiStatus(err) != http.StatusUnauthorized {
		return err
	}
	clearSession(rw, r)
	http.Redirect(rw, r, Prefix+"/signin?flash="+urlQuery("You are signed out."), http.StatusSeeOther)
	return nil
}

// rememberCollab keeps the collab chosen in the switcher for the next pages.
func rememberCollab(rw http.ResponseWriter, r *http.Request, s *session) {
	if c := r.URL.Query().Get("collab"); c != "" && s.Roles[c] != "" {
		setCookie(rw, r, collabCookie, c, 365*24*3600)
	}
}

var _ = context.Background
