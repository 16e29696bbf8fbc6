package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nmp-platform/nmp/store"
)

// Password logins are bounded three ways, so that guessing is slow and tells
// nothing:
//
//   - throttling: after LoginFreeFailures failed logins for one account (known
//     or not), or LoginFreeFailuresAddr from one address, each further failure
//     locks that account or address out for twice as long as the one before,
//     from 1 s up to LoginMaxLockout; a success clears the account's count;
//   - equal time: an unknown user's attempt checks the password against a
//     dummy hash of the same work factor, so a failure takes as long whether or
//     not the user exists;
//   - one check at a time: PBKDF2 is made to be slow, so password checks take
//     turns (LoginConcurrency) and concurrent guessers cannot starve the
//     rest of the server.
const (
	LoginFreeFailures     = 5
	LoginFreeFailuresAddr = 20
	LoginMaxLockout       = 15 * time.Minute
	LoginConcurrency      = 1
)

// ThrottledError says when logins for the account or from the address may be tried again.
type ThrottledError struct {
	What       string // "account alice" or "address 192.0.2.1"
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins for %s; try again in %s", e.What, e.RetryAfter.Round(time.Second))
}

type failures struct {
	n     int
	until time.Time // locked out until then
	last  time.Time
}

type loginGuard struct {
	mu    sync.Mutex
	fails map[string]*failures
	turns chan struct{}

	dummyOnce sync.Once
	dummy     string
}

func (g *loginGuard) init() {
	g.mu.Lock()
	if g.fails == nil {
		g.fails = map[string]*failures{}
		g.turns = make(chan struct{}, LoginConcurrency)
	}
	g.mu.Unlock()
}

// locked returns how long key is still locked out (0: not).
func (g *loginGuard) locked(key string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.fails[key]; f != nil && now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

func (g *loginGuard) fail(key string, free int, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.fails) > 100_000 {
		for k, f := range g.fails {
			if now.Sub(f.last) > time.Hour && !now.Before(f.until) {
				delete(g.fails, k)
			}
		}
	}
	f := g.fails[key]
	if f == nil || now.Sub(f.last) > 24*time.Hour {
		f = &failures{}
		g.fails[key] = f
	}
	f.n++
	f.last = now
	if over := f.n - free; over > 0 {
		lock := LoginMaxLockout
		if over < 20 {
			lock = min(time.Second<<(over-1), LoginMaxLockout)
		}
		f.until = now.Add(lock)
	}
}

func (g *loginGuard) clear(key string) {
	g.mu.Lock()
	delete(g.fails, key)
	g.mu.Unlock()
}

// Password checks a username and password and returns the user's principal.
// addr is the caller's address ("" when unknown), for throttling. Failures are
// ErrBadPassword, or a *ThrottledError while the account or address is locked out.
func (a *Authenticator) Password(ctx context.Context, username, password, addr string) (*Principal, error) {
	g := &a.login
	g.init()
	now := a.now()
	userKey, addrKey := "user:"+username, "addr:"+addr
	if d := g.locked(userKey, now); d > 0 {
		return nil, &ThrottledError{What: "account " + username, RetryAfter: d}
	}
	if addr != "" {
		if d := g.locked(addrKey, now); d > 0 {
			return nil, &ThrottledError{What: "address " + addr, RetryAfter: d}
		}
	}
	select {
	case g.turns <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p, err := a.checkPassword(ctx, username, password)
	<-g.turns
	now = a.now()
	if errors.Is(err, ErrBadPassword) {
		g.fail(userKey, LoginFreeFailures, now)
		if addr != "" {
			g.fail(addrKey, LoginFreeFailuresAddr, now)
		}
		return nil, err
	}
	if err == nil {
		g.clear(userKey)
	}
	return p, err
}

func (a *Authenticator) checkPassword(ctx context.Context, username, password string) (*Principal, error) {
	u, err := a.Store.UserGet(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("check password: %w", err)
	}
	stored := ""
	if err == nil {
		stored = u.PasswordHash
	}
	if stored == "" {
		// As long as a real check, so that failures do not tell who exists.
		CheckPassword(a.dummyHash(), password)
		return nil, ErrBadPassword
	}
	if !CheckPassword(stored, password) {
		return nil, ErrBadPassword
	}
	return a.user(ctx, username)
}

// dummyHash is a hash of a random password with the work factor of real ones.
func (a *Authenticator) dummyHash() string {
	a.login.dummyOnce.Do(func() {
		it := a.PasswordIterations
		if it <= 0 {
			it = PasswordIterations
		}
		a.login.dummy, _ = HashPassword(random(24), it)
	})
	return a.login.dummy
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// commonPasswords are refused whatever their length (a short list of the
// most used ones that pass the length rule).
var commonPasswords = []string{"123456789012", "password1234", "qwertyuiopas", "passwordpassword", "111111111111", "000000000000",
	"correcthorsebatterystaple", "iloveyou1234", "administrator", "changeme1234", "letmein12345", "welcome12345"}

// CheckNewPassword tells why a password is too weak for the user, or nil.
func CheckNewPassword(username, password string) error {
	lower := strings.ToLower(password)
	distinct := map[rune]bool{}
	for _, r := range password {
		distinct[r] = true
	}
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return fmt.Errorf("password: use at least %d characters (a few words make a good one)", MinPasswordLength)
	case len(password) > 1024:
		return errors.New("password: at most 1024 bytes")
	case len(distinct) < 5:
		return errors.New("password: too few different characters")
	case username != "" && strings.Contains(lower, strings.ToLower(username)):
		return errors.New("password: must not contain the user name")
	}
	for _, c := range commonPasswords {
		if lower == c {
			return errors.New("password: one of the most common passwords")
		}
	}
	return nil
}

// CheckUsername tells why a user name is not acceptable, or nil. Names are
// 1 to 64 characters of ASCII letters, digits, '.', '_' and '-', starting with a
// letter or digit: they appear in paths, collab names (private-<name>) and logs.
func CheckUsername(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name %q: use 1 to 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || (i > 0 && (r == '.' || r == '_' || r == '-'))
		if !ok {
			return fmt.Errorf("user name %q: only letters, digits, '.', '_' and '-' (not first) are allowed", name)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("user name %q: \"..\" is not allowed", name)
	}
	return nil
}
