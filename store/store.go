// Package store defines what the job queue server keeps: users, collabs, tokens,
// providers, jobs with their logs, tags, comments and output files, resource
// requests (projects) with their quotas, and sessions.
//
// The Store interface is the seam between the server and its databases. Two
// drivers implement it: store/sqlite (embedded, the default) and store/postgres
// (for production). Both pass one conformance suite, store/storetest.
//
// Methods are named noun-then-verb and take a params struct, so that they sort
// together and can grow without breaking callers. Operations that must be atomic
// (taking the next job, checking and reserving quota, charging usage, storing a
// file against the storage quota) are single Store methods: a driver runs each in
// one transaction.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors a Store returns. Drivers wrap them; test with errors.Is.
var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a row with the same key exists already.
	ErrExists = errors.New("already exists")
	// ErrQuotaExceeded: the collab has no accepted quota on the platform with room for the job.
	ErrQuotaExceeded = errors.New("insufficient quota")
	// ErrStorageExceeded: storing the file would take the collab over its storage quota.
	ErrStorageExceeded = errors.New("insufficient storage quota")
	// ErrLeaseLost: the job is no longer held under the lease given (it expired and was requeued, or the job ended).
	ErrLeaseLost = errors.New("lease lost")
	// ErrConflict: the change is not allowed in the row's current state (e.g. a finished job cannot run again).
	ErrConflict = errors.New("conflict")
	// ErrReplayed: JobInsert found a job of the same user with the same
	// idempotency key, and returns it with this error instead of inserting.
	ErrReplayed = errors.New("replayed submission")
)

// Job statuses, as the nmpi API names them.
const (
	StatusSubmitted = "submitted"
	StatusValidated = "validated"
	StatusRunning   = "running"
	StatusMapped    = "mapped"
	StatusFinished  = "finished"
	StatusError     = "error"
	StatusRemoved   = "removed"
)

// JobStatuses lists every valid job status.
var JobStatuses = []string{StatusSubmitted, StatusValidated, StatusRunning, StatusMapped, StatusFinished, StatusError, StatusRemoved}

// Terminal tells whether a job in this status has ended for good.
func Terminal(status string) bool {
	return status == StatusFinished || status == StatusError || status == StatusRemoved
}

// Collab roles, weakest first.
const (
	RoleViewer        = "viewer"
	RoleEditor        = "editor"
	RoleAdministrator = "administrator"
)

// User is a person who logs in.
type User struct {
	Username     string
	Email        string
	GivenName    string
	FamilyName   string
	PasswordHash string // empty: no password login
	Admin        bool   // platform administrator
	CreatedAt    time.Time
}

// Collab is a collaborative workspace: jobs, quotas and results belong to a collab.
type Collab struct {
	Name      string
	Title     string
	Public    bool // anyone logged in may view its jobs and results
	CreatedAt time.Time
}

// Member is one user's role in one collab.
type Member struct {
	Collab   string
	Username string
	Role     string
}

// Token is a bearer token. Only its hash is kept.
type Token struct {
	ID        string // public, non-secret identifier (for listing and revoking)
	Hash      string
	Username  string
	Label     string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Provider is a hardware provider: it runs the jobs of its platforms.
type Provider struct {
	Name      string
	Platforms []string
	CreatedAt time.Time
}

// APIKey lets a provider's runners call the provider side of the API. Only its hash is kept.
type APIKey struct {
	ID        string
	Hash      string
	Provider  string
	Label     string
	CreatedAt time.Time
	ExpiresAt *time.Time // nil: does not expire
	RevokedAt *time.Time
}

// Job is one submitted experiment.
type Job struct {
	ID               int64
	Code             string
	Command          string
	Collab           string
	UserID           string
	Status           string
	HardwarePlatform string
	HardwareConfig   json.RawMessage // a JSON object, or nil
	InputData        json.RawMessage // a JSON array of data items, or nil
	Provenance       json.RawMessage // a JSON object, or nil
	Tags             []string
	SubmittedAt      time.Time
	StartedAt        *time.Time
	CompletedAt      *time.Time
	// ResourceUsage is the usage last reported by the provider, in the platform's units.
	ResourceUsage *float64
	// Charged is how much of ResourceUsage has been charged to quotas.
	Charged float64
	// HoldQuotaID and HoldAmount: the quota reservation made at submission,
	// released when the job ends.
	HoldQuotaID *int64
	HoldAmount  float64
	// Lease: the claim of a running job by a provider's runner.
	LeaseID        string
	LeaseOwner     string
	LeaseExpiresAt *time.Time
	Attempts       int
	// OutputRepository names where the output files live (computed from their URLs when not set).
	OutputRepository string
	// IdempotencyKey, when set at insertion, makes a second insertion by the
	// same user with the same key return this job (ErrReplayed).
	IdempotencyKey string
}

// DataItem is an output file of a job: either stored by nmp (Stored) or kept
// elsewhere by the provider (URL).
type DataItem struct {
	ID          int64
	JobID       int64
	Path        string
	URL         string // external location; empty for stored files
	Size        *int64
	Hash        string
	ContentType string
	Stored      bool
	CreatedAt   time.Time
	ExpiresAt   *time.Time // stored files: when the retention period ends
	// KeptAt: when the file was kept past the retention period (copy_data_to_storage);
	// set by DataItemKeptList only.
	KeptAt *time.Time
}

// Comment is a note on a job.
type Comment struct {
	ID        int64
	JobID     int64
	UserID    string
	Content   string
	CreatedAt time.Time
}

// Project is a resource request. Its status is derived from its dates.
type Project struct {
	ID             string // UUID
	Collab         string
	Owner          string
	Title          string
	Abstract       string
	Description    string
	Access         string // test, preparatory or project
	CreatedAt      time.Time
	SubmissionDate *time.Time
	DecisionDate   *time.Time
	Accepted       bool
	// DecisionReason is the administrator's comment on the decision (why a request was rejected).
	DecisionReason string
	Quotas         []Quota
}

// Project statuses.
const (
	ProjectInPreparation = "in preparation"
	ProjectUnderReview   = "under review"
	ProjectAccepted      = "accepted"
	ProjectRejected      = "rejected"
)

// Status is the project's status as the API shows it.
func (p *Project) Status() string {
	switch {
	case p.SubmissionDate == nil:
		return ProjectInPreparation
	case p.Accepted:
		return ProjectAccepted
	case p.DecisionDate == nil:
		return ProjectUnderReview
	default:
		return ProjectRejected
	}
}

// Quota is an allocation on one platform (or of storage) granted to a project.
type Quota struct {
	ID        int64
	ProjectID string
	Platform  string
	Units     string
	Limit     float64
	Usage     float64 // charged
	Reserved  float64 // held by jobs and sessions not yet ended
}

// Session is an interactive allocation of hardware time (used by SpiNNaker's spalloc).
type Session struct {
	ID               int64
	Collab           string
	UserID           string
	Status           string
	HardwarePlatform string
	HardwareConfig   json.RawMessage
	StartedAt        time.Time
	EndedAt          *time.Time
	ResourceUsage    *float64
	Charged          float64
	HoldQuotaID      *int64
	HoldAmount       float64
}

// notFound wraps ErrNotFound with the kind and key of what was missing.
func NotFound(kind string, key any) error {
	return fmt.Errorf("%s %v: %w", kind, key, ErrNotFound)
}
