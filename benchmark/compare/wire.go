package compare

// The compare API's wire types (GET /compare/{id}, /compare/{id}/spikes),
// here so that the service that writes them (package benchmark) and the
// pages and clients that read them share one definition.

// Job is one platform's job of a comparison.
type Job struct {
	Platform string `json:"platform"`
	JobID    int64  `json:"job_id,omitempty"`
	Status   string `json:"status"`
	// Error says why the job was not submitted (Status "not submitted").
	Error string `json:"error,omitempty"`
}

// Doc is a comparison: its jobs and, once they have all ended, the
// report.
type Doc struct {
	ID string `json:"id"`
	// Status is "running" until every job has ended, then "done".
	Status string            `json:"status"`
	Jobs   []Job             `json:"jobs"`
	Report *Report           `json:"report,omitempty"`
	Text   string            `json:"text,omitempty"`
	Links  map[string]string `json:"links"`
}

// Spikes is one platform's spikes, per population (GET
// /compare/{id}/spikes; nmp compare -server plots them).
type Spikes struct {
	Platform string `json:"platform"`
	Refused  string `json:"refused"`
	// SimulatedMs is the biological time the platform simulated.
	SimulatedMs float64 `json:"simulated_ms"`
	Pops        []struct {
		Label  string      `json:"label"`
		Size   int         `json:"size"`
		Trains [][]float64 `json:"trains"`
	} `json:"pops"`
}
