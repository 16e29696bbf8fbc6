// Package identity makes nmp its own identity provider: it issues and checks
// bearer tokens for people and API keys for hardware providers, hashes
// passwords, and says what a caller may do in a collab.
//
// Tokens and keys are random (256 bits), shown once, and stored only as their
// SHA-256 hash; tokens expire, both can be revoked.
package identity

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// Errors of authentication. Each message is what the caller is told.
var (
	ErrNoCredentials = errors.New("no credentials: send the header 'Authorization: Bearer <token>' (people) or 'x-api-key: <key>' (hardware providers)")
	ErrInvalidToken  = errors.New("invalid_token: the token is unknown, expired or revoked; get a new one with 'nmp login'")
	ErrInvalidKey    = errors.New("the API key is unknown, expired or revoked")
	ErrBadPassword   = errors.New("wrong username or password")
)

// AdminCollab is the collab whose editors and administrators are platform
// administrators, as on the EBRAINS platform.
const AdminCollab = "neuromorphic-platform-admin"

// Token and key prefixes make leaked secrets recognisable.
const (
	TokenPrefix = "nmpt_"
	KeyPrefix   = "nmpk_"
)

// Hash is how a token or key is stored.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewID returns a random, non-secret identifier.
func NewID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// IssueToken creates a token for the user, valid for ttl, and returns its secret
// (the only time it is available) with the stored record.
func IssueToken(ctx context.Context, st store.Store, username, label string, ttl time.Duration, now time.Time) (string, *store.Token, error) {
	if _, err := st.UserGet(ctx, username); err != nil {
		return "", nil, err
	}
	secret := TokenPrefix + random(32)
	t := &store.Token{ID: NewID(), Hash: Hash(secret), Username: username, Label: label, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := st.TokenCreate(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// IssueAPIKey creates an API key for the provider; ttl 0 means it does not expire.
func IssueAPIKey(ctx context.Context, st store.Store, provider, label string, ttl time.Duration, now time.Time) (string, *store.APIKey, error) {
	secret := KeyPrefix + random(32)
	k := &store.APIKey{ID: NewID(), Hash: Hash(secret), Provider: provider, Label: label, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		k.ExpiresAt = &exp
	}
	if err := st.APIKeyCreate(ctx, k); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// Password hashing: PBKDF2-SHA256, stored as pbkdf2-sha256$iterations$salt$hash.

// PasswordIterations is the PBKDF2 work factor for new passwords (OWASP's 2023 advice).
const PasswordIterations = 600_000

// HashPassword hashes a password with the given work factor (0: PasswordIterations).
func HashPassword(password string, iterations int) (string, error) {
	if iterations <= 0 {
		iterations = PasswordIterations
	}
	if len(password) < 8 {
		return "", errors.New("password: use at least 8 characters")
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iterations, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword tells whether password matches the stored hash.
func CheckPassword(stored, password string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter <= 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[2])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// Principal is an authenticated caller: a person (User set) or a hardware provider (Provider set).
type Principal struct {
	User     *store.User
	Roles    map[string]string // collab → role
	Provider *store.Provider
	// Expires is when the credential stops being valid (zero: never).
	Expires time.Time
}

// Name is the username or "provider:<name>".
func (p *Principal) Name() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.User != nil:
		return p.User.Username
	case p.Provider != nil:
		return "provider:" + p.Provider.Name
	}
	return "anonymous"
}

// Admin tells whether the caller is a platform administrator.
func (p *Principal) Admin() bool {
	if p == nil || p.User == nil {
		return false
	}
	r := p.Roles[AdminCollab]
	return p.User.Admin || r == store.RoleEditor || r == store.RoleAdministrator
}

// PrivateCollab is the collab every user has to themselves.
func PrivateCollab(username string) string { return "private-" + username }

// Role is the caller's role in the collab ("" for none).
func (p *Principal) Role(collab string) string {
	if p == nil || p.User == nil {
		return ""
	}
	if collab == PrivateCollab(p.User.Username) {
		return store.RoleAdministrator
	}
	return p.Roles[collab]
}

// CanEdit tells whether the caller may submit jobs and resource requests in the collab.
func (p *Principal) CanEdit(collab string) bool {
	r := p.Role(collab)
	return r == store.RoleEditor || r == store.RoleAdministrator
}

// IsMember tells whether the caller has any role in the collab.
func (p *Principal) IsMember(collab string) bool { return p.Role(collab) != "" }

// Serves tells whether the caller is a provider running the platform.
func (p *Principal) Serves(platform string) bool {
	if p == nil || p.Provider == nil {
		return false
	}
	for _, pl := range p.Provider.Platforms {
		if pl == platform {
			return true
		}
	}
	return false
}

// Teams lists the caller's roles as EBRAINS userinfo writes them: collab-<collab>-<role>.
func (p *Principal) Teams() []string {
	out := []string{}
	if p == nil || p.User == nil {
		return out
	}
	for c, r := range p.Roles {
		out = append(out, "collab-"+c+"-"+r)
	}
	if p.User.Admin && p.Roles[AdminCollab] == "" {
		out = append(out, "collab-"+AdminCollab+"-"+store.RoleAdministrator)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Authenticator resolves credentials to principals. It remembers a resolved
// credential for CacheTTL, so a busy client costs one lookup per CacheTTL; a
// revocation through Forget is immediate in this process, and takes at most
// CacheTTL in others.
type Authenticator struct {
	Store    store.Store
	CacheTTL time.Duration
	Now      func() time.Time
	// PasswordIterations is the work factor of the dummy hash that unknown
	// users' logins are checked against (0: PasswordIterations); it should
	// be that of the real users' passwords.
	PasswordIterations int

	mu    sync.Mutex
	cache map[string]cached
	login loginGuard
}

type cached struct {
	p     *Principal
	until time.Time
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authenticator) lookup(hash string, now time.Time) *Principal {
	if a.CacheTTL <= 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[hash]
	if !ok || now.After(c.until) {
		delete(a.cache, hash)
		return nil
	}
	return c.p
}

func (a *Authenticator) remember(hash string, p *Principal, now time.Time) {
	if a.CacheTTL <= 0 {
		return
	}
	until := now.Add(a.CacheTTL)
	if !p.Expires.IsZero() && p.Expires.Before(until) {
		until = p.Expires
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cache == nil || len(a.cache) > 100_000 {
		a.cache = map[string]cached{}
	}
	a.cache[hash] = cached{p, until}
}

// Forget drops every cached credential (after a revocation or a change of roles).
func (a *Authenticator) Forget() {
	a.mu.Lock()
	a.cache = nil
	a.mu.Unlock()
}

// Token resolves a bearer token.
func (a *Authenticator) Token(ctx context.Context, secret string) (*Principal, error) {
	now := a.now()
	h := Hash(secret)
	// Cached per kind: a key is never a token, nor a token a key, cached or not.
	if p := a.lookup("token:"+h, now); p != nil {
		return p, nil
	}
	t, err := a.Store.TokenGetByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("check token: %w", err)
	}
	if t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
		return nil, ErrInvalidToken
	}
	p, err := a.user(ctx, t.Username)
	if err != nil {
		return nil, err
	}
	p.Expires = t.ExpiresAt
	a.remember("token:"+h, p, now)
	return p, nil
}

func (a *Authenticator) user(ctx context.Context, username string) (*Principal, error) {
	u, err := a.Store.UserGet(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("check token: %w", err)
	}
	ms, err := a.Store.CollabMemberList(ctx, &store.CollabMemberListParams{Username: username})
	if err != nil {
		return nil, fmt.Errorf("check token: %w", err)
	}
	p := &Principal{User: u, Roles: make(map[string]string, len(ms))}
	for _, m := range ms {
		p.Roles[m.Collab] = m.Role
	}
	return p, nil
}

// APIKey resolves a provider's API key.
func (a *Authenticator) APIKey(ctx context.Context, secret string) (*Principal, error) {
	now := a.now()
	h := Hash(secret)
	if p := a.lookup("key:"+h, now); p != nil {
		return p, nil
	}
	k, err := a.Store.APIKeyGetByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidKey
	}
	if err != nil {
		return nil, fmt.Errorf("check api key: %w", err)
	}
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) {
		return nil, ErrInvalidKey
	}
	pr, err := a.Store.ProviderGet(ctx, k.Provider)
	if err != nil {
		return nil, fmt.Errorf("check api key: %w", err)
	}
	p := &Principal{Provider: pr}
	if k.ExpiresAt != nil {
		p.Expires = *k.ExpiresAt
	}
	a.remember("key:"+h, p, now)
	return p, nil
}
