package nmpi

import "encoding/json"

// Calibration statuses.
const (
	CalibrationQueued   = "queued"
	CalibrationRunning  = "running"
	CalibrationFinished = "finished"
	CalibrationFailed   = "failed"
)

// Calibration is a calibration of an emulated chip, as nmp's server shows it
// (GET /calibrations, an nmp addition): asked for by the nightly schedule,
// for a chip new to the server, or by an administrator; run by a worker that
// serves the chip; kept, once finished, as a versioned artefact whose files
// the server serves.
type Calibration struct {
	ID          int64  `json:"id"`
	Chip        string `json:"chip"`
	Platform    string `json:"platform,omitempty"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
	Created     Time   `json:"created"`
	Started     *Time  `json:"started,omitempty"`
	Completed   *Time  `json:"completed,omitempty"`
	// Worker is the provider whose worker took it.
	Worker   string `json:"worker,omitempty"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
	// Summary is the worker's summary of the result (per preset: failed
	// neurons, seconds; the algorithm).
	Summary json.RawMessage   `json:"summary,omitempty"`
	Files   []CalibrationFile `json:"files,omitempty"`
	// Latest marks the chip's latest calibration (the newest finished one).
	Latest bool `json:"latest,omitempty"`
	// Lease is set in the answer to the worker that claimed it.
	Lease *Lease `json:"lease,omitempty"`
}

// CalibrationFile is one file of a finished calibration.
type CalibrationFile struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Hash string `json:"hash"` // sha256, hex
	URL  string `json:"url,omitempty"`
}

// ChipCalibration is what a platform's status says of one of its chips'
// calibrations: the latest, and the last failure when it came after it.
type ChipCalibration struct {
	Chip        string       `json:"chip"`
	Latest      *Calibration `json:"latest,omitempty"`
	LastFailure *Calibration `json:"last_failure,omitempty"`
	// Pending is a queued or running calibration of the chip, if any.
	Pending *Calibration `json:"pending,omitempty"`
}
