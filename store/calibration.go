package store

import (
	"encoding/json"
	"time"
)

// Calibration statuses.
const (
	CalibrationQueued   = "queued"
	CalibrationRunning  = "running"
	CalibrationFinished = "finished"
	CalibrationFailed   = "failed"
)

// Calibration is one calibration of an emulated chip that the server asked
// for (every night, for a chip new to it, or on an administrator's request)
// and a worker serving the chip runs. A finished calibration is a versioned
// artefact: its files live in the server's data directory, and the newest
// finished one of a chip is the chip's latest.
type Calibration struct {
	ID       int64
	Chip     string
	Platform string
	// Key makes a request unique per chip ("nightly:2025-03-14", "new-chip",
	// "admin:…"), so that schedulers on several replicas ask once.
	Key         string
	Reason      string // what asked for it, for people
	RequestedBy string // the administrator, or "" for the scheduler
	Status      string
	CreatedAt   time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time
	// Lease: the claim of a running calibration by a worker.
	LeaseID        string
	LeaseOwner     string
	LeaseExpiresAt *time.Time
	Attempts       int
	// Error says why a failed calibration failed.
	Error string
	// Summary is the worker's summary of the result (a JSON object, or nil).
	Summary json.RawMessage
	// Files are the artefact's files (a finished calibration's).
	Files []CalibrationFile
}

// CalibrationFile is one file of a calibration's artefact.
type CalibrationFile struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Hash string `json:"hash"` // sha256, hex
}

// CalibrationChip is a chip a worker said it serves.
type CalibrationChip struct {
	Chip     string
	Platform string
	Provider string
	LastSeen time.Time
}

// CalibrationInsertParams: the calibration's Chip, Platform, Key, Reason and RequestedBy.
type CalibrationInsertParams struct {
	Calibration Calibration
	Now         time.Time
}

// CalibrationListParams filters calibrations; they come newest first.
type CalibrationListParams struct {
	Chip   []string
	Status []string
	Limit  int
	Offset int
}

// CalibrationClaimParams: take the oldest queued calibration of one of Chips.
// A running one whose lease expired is taken again while it has been tried
// fewer than MaxAttempts times, and fails once it has.
type CalibrationClaimParams struct {
	Chips       []string
	Owner       string
	LeaseID     string
	Lease       time.Duration
	MaxAttempts int
	Now         time.Time
}

// CalibrationFinishParams ends a running calibration held under LeaseID.
type CalibrationFinishParams struct {
	ID      int64
	LeaseID string
	Status  string // CalibrationFinished or CalibrationFailed
	Error   string
	Summary json.RawMessage
	Files   []CalibrationFile
	Now     time.Time
}
