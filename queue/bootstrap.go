package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/store"
)

// BootstrapParams describe the defaults of a fresh installation. The zero value
// gives an administrator "admin", a collab "demo" with test access, and a
// provider "local" serving every platform.
type BootstrapParams struct {
	Admin         string // default "admin"
	AdminEmail    string
	AdminPassword string   // optional: enables 'nmp login' for the administrator
	Collab        string   // default "demo"
	Provider      string   // default "local"
	Platforms     []string // default: every platform of PlatformTable
	// PlatformTable is the platforms and their grants (default platform.Default()).
	PlatformTable platform.Table
	TokenTTL      time.Duration // default one year
	// PasswordIterations is the PBKDF2 work factor (0: identity.PasswordIterations).
	PasswordIterations int
	Now                time.Time
}

// Bootstrapped is what Bootstrap created. The secrets are shown only here.
type Bootstrapped struct {
	Created   bool   // false: the installation existed already and nothing was changed
	Admin     string // administrator's username
	Collab    string
	ProjectID string
	Token     string // the administrator's bearer token
	Provider  string
	APIKey    string // the provider's API key
}

// Bootstrap creates the defaults of a fresh installation: an administrator with
// a token, a collab the administrator administers, an accepted test-access
// resource request for it (so jobs can be submitted at once), and a provider
// with an API key for the local runners. If the administrator exists already it
// changes nothing and returns Created false.
func Bootstrap(ctx context.Context, st store.Store, p BootstrapParams) (*Bootstrapped, error) {
	if p.Admin == "" {
		p.Admin = "admin"
	}
	if p.Collab == "" {
		p.Collab = "demo"
	}
	if p.Provider == "" {
		p.Provider = "local"
	}
	if len(p.Platforms) == 0 {
		p.Platforms = p.PlatformTable.OrDefault().Names()
	}
	if p.TokenTTL <= 0 {
		p.TokenTTL = 365 * 24 * time.Hour
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	out := &Bootstrapped{Admin: p.Admin, Collab: p.Collab, Provider: p.Provider}
	if _, err := st.UserGet(ctx, p.Admin); err == nil {
		return out, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	hash := ""
	if p.AdminPassword != "" {
		h, err := identity.HashPassword(p.AdminPassword, p.PasswordIterations)
		if err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		hash = h
	}
	if _, err := st.UserCreate(ctx, &store.UserCreateParams{Username: p.Admin, Email: p.AdminEmail, PasswordHash: hash, Admin: true, Now: p.Now}); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if _, err := st.CollabGet(ctx, p.Collab); errors.Is(err, store.ErrNotFound) {
		if _, err := st.CollabCreate(ctx, &store.CollabCreateParams{Name: p.Collab, Title: "Demonstration collab", Now: p.Now}); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	if err := st.CollabMemberSet(ctx, &store.Member{Collab: p.Collab, Username: p.Admin, Role: store.RoleAdministrator}); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	pr, err := st.ProjectCreate(ctx, &store.Project{ID: NewProjectID(), Collab: p.Collab, Owner: p.Admin, Title: "Test access for collab " + p.Collab,
		Abstract: "Created when this nmp installation was set up.", Access: AccessTest, CreatedAt: p.Now})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	accept := true
	if _, err := st.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: pr.ID, Decide: &accept, Grant: Grant(p.PlatformTable, AccessTest), Now: p.Now}); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	out.ProjectID = pr.ID
	token, _, err := identity.IssueToken(ctx, st, p.Admin, "bootstrap", p.TokenTTL, p.Now)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	out.Token = token
	if _, err := st.ProviderGet(ctx, p.Provider); errors.Is(err, store.ErrNotFound) {
		if err := st.ProviderCreate(ctx, &store.Provider{Name: p.Provider, Platforms: p.Platforms, CreatedAt: p.Now}); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	key, _, err := identity.IssueAPIKey(ctx, st, p.Provider, "bootstrap", 0, p.Now)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	out.APIKey = key
	out.Created = true
	return out, nil
}

// NewProjectID returns a random (version 4) UUID for a resource request.
func NewProjectID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
