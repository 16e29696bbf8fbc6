package nmpi

// CollabStorage is a page of a collab's kept files (GET
// /collabs/{id}/storage, nmp's addition): the output files that
// copy_data_to_storage kept past the retention period, newest jobs first.
type CollabStorage struct {
	Collab     string `json:"collab"`
	Repository string `json:"repository"` // "nmp collab storage"
	// Total is how many kept files the collab has (or the job, with ?job=);
	// FromIndex where this page starts.
	Total     int `json:"total"`
	FromIndex int `json:"from_index"`
	// UsedBytes and LimitBytes: what the collab stores in all (kept and
	// temporary files) and its storage quota.
	UsedBytes  int64      `json:"used_bytes"`
	LimitBytes int64      `json:"limit_bytes"`
	Files      []KeptFile `json:"files"`
}

// KeptFile is a stored output file kept past the retention period.
type KeptFile struct {
	JobID       int64   `json:"job_id"`
	Path        string  `json:"path"`
	Size        *int64  `json:"size"`
	Hash        *string `json:"hash"` // SHA-1
	ContentType *string `json:"content_type"`
	URL         string  `json:"url"` // signed download link
	Uploaded    Time    `json:"uploaded"`
	Kept        Time    `json:"kept"`
	Expires     *Time   `json:"expires"` // null: kept until deleted
}
