package store

import (
	"encoding/json"
	"time"
)

// BenchmarkSource is a registered benchmark repository: a git repository
// (Kind "git", URL its clone URL or, where the server allows it, a local
// path) or an uploaded directory (Kind "archive", URL the code archive).
type BenchmarkSource struct {
	ID     int64
	Name   string
	Kind   string
	URL    string
	Branch string // "" : the repository's default branch
	// Every schedules a run of all its benchmarks at this interval (0: none).
	Every     time.Duration
	CreatedBy string
	CreatedAt time.Time
	// Commit is the last commit seen (a git commit, or the SHA-256 of an
	// archive), Message its message, SkippedCI whether that message asked
	// for no run. CheckedAt is the last poll, Error its failure ("" when it
	// worked).
	Commit    string
	Message   string
	SkippedCI bool
	CheckedAt *time.Time
	Error     string
	// NextDue is when the schedule next runs it (nil: not scheduled).
	NextDue *time.Time
}

// BenchmarkSourceUpdateParams changes the non-nil fields of a source.
type BenchmarkSourceUpdateParams struct {
	ID        int64
	Commit    *string
	Message   *string
	SkippedCI *bool
	CheckedAt *time.Time
	Error     *string
	NextDue   *time.Time
	Every     *time.Duration
}

// Benchmark run statuses.
const (
	RunQueued    = "queued"
	RunSubmitted = "submitted"
	RunFinished  = "finished"
	RunError     = "error"
)

// BenchmarkRun is one (task, platform) of a source at one commit, run as a
// job of the benchmarks collab.
type BenchmarkRun struct {
	ID       int64
	SourceID int64
	Commit   string
	Model    string
	Task     string
	Platform string
	Command  string
	// Trigger says why it runs ("commit abc123", "system BrainScaleS-2
	// changed: ...", "manual by alice", "schedule").
	Trigger   string
	Status    string
	JobID     *int64
	Error     string
	CreatedAt time.Time
	EndedAt   *time.Time
	// Measurements is how many measurements its harvest stored.
	Measurements int
}

// BenchmarkRunListParams selects runs; empty fields select all. Newest first.
type BenchmarkRunListParams struct {
	Status   []string
	SourceID int64
	Platform string
	Limit    int
}

// BenchmarkRunUpdateParams changes the non-nil fields of a run that has
// not ended.
type BenchmarkRunUpdateParams struct {
	ID     int64
	Status *string
	JobID  *int64
	Error  *string
}

// BenchmarkRunEndParams ends a run: its status (finished or error), the
// reason of an error, and the measurements harvested, stored together.
type BenchmarkRunEndParams struct {
	ID           int64
	Status       string
	Error        string
	Measurements []BenchmarkMeasurement
	Now          time.Time
}

// BenchmarkMeasurement is one harvested result of a run, with where it
// came from.
type BenchmarkMeasurement struct {
	ID       int64
	RunID    int64
	JobID    int64
	SourceID int64
	Model    string
	Task     string
	Platform string
	Type     string
	Name     string
	Value    float64
	Units    string
	StdDev   *float64
	Min      *float64
	Max      *float64
	Measure  string
	// Timestamp is the report's; RecordedAt when it was harvested.
	Timestamp  time.Time
	RecordedAt time.Time
	NMPVersion string
	Commit     string
	// Machine is the worker (and chip) that ran the job.
	Machine string
	// File is the output file it came from.
	File          string
	Configuration json.RawMessage
}

// BenchmarkMeasurementListParams selects measurements; empty fields select
// all. Oldest first (by report timestamp, then id).
type BenchmarkMeasurementListParams struct {
	SourceID int64
	Model    string
	Task     string
	Name     string
	Measure  string
	Platform string
	From, To *time.Time
	Limit    int
}
