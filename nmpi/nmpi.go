// Package nmpi is the wire format of the EBRAINS Neuromorphic Computing
// Platform's v3 job queue API, as nmp's server writes it and nmp's two Go
// clients (client, for users; provider, for the hardware systems' runners)
// read it: jobs, their data items and resource usage, leases, comments,
// quotas, resource requests, sessions, the about and userinfo documents, and
// the error body.
//
// The server's documents always carry every key, null when unset, as the
// reference server's pydantic models write them; field order follows the
// reference. Only nmp's additions (a claim's lease, a platform status's
// message, a user's e-mail) are left out when empty.
package nmpi

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Job statuses.
const (
	StatusSubmitted = "submitted"
	StatusRunning   = "running"
	StatusFinished  = "finished"
	StatusError     = "error"
	StatusRemoved   = "removed"
)

// Job is a job, as the server shows it (GET /jobs/{id}, POST /jobs/ and the
// runners' claims).
type Job struct {
	ID      int64  `json:"id"`
	Code    string `json:"code"`
	Command string `json:"command"`
	Collab  string `json:"collab"`
	// InputData is the list of data items as submitted, kept as it came:
	// read it with Inputs.
	InputData        json.RawMessage `json:"input_data"`
	HardwarePlatform string          `json:"hardware_platform"`
	HardwareConfig   json.RawMessage `json:"hardware_config"`
	Tags             []string        `json:"tags"`
	UserID           string          `json:"user_id"`
	Status           string          `json:"status"`
	Submitted        Time            `json:"timestamp_submission"`
	ResourceURI      string          `json:"resource_uri"`
	OutputData       *DataSet        `json:"output_data"`
	Provenance       json.RawMessage `json:"provenance"`
	Completed        *Time           `json:"timestamp_completion"`
	ResourceUsage    *Usage          `json:"resource_usage"`
	// Comments are sent when asked for (with_comments=true).
	Comments []Comment `json:"comments"`
	// Log is sent when asked for (with_log=true).
	Log *string `json:"log"`
	// Lease is set only in the answer to a claim (POST /jobs/next/{platform}).
	Lease *Lease `json:"lease,omitempty"`
}

// Inputs reads the job's input data items.
func (j *Job) Inputs() ([]DataItem, error) {
	t := strings.TrimSpace(string(j.InputData))
	if t == "" || t == "null" {
		return nil, nil
	}
	var items []DataItem
	if err := json.Unmarshal(j.InputData, &items); err != nil {
		return nil, fmt.Errorf("input_data of job %d: %w", j.ID, err)
	}
	return items, nil
}

// Ended tells whether the job is finished, errored or removed.
func (j *Job) Ended() bool {
	return j.Status == StatusFinished || j.Status == StatusError || j.Status == StatusRemoved
}

// Files lists the job's output files.
func (j *Job) Files() []DataItem {
	if j.OutputData == nil {
		return nil
	}
	return j.OutputData.Files
}

// Lease is a runner's hold on a claimed job (nmp's addition): updates under a
// lost lease are refused.
type Lease struct {
	ID      string `json:"id"`
	Expires Time   `json:"expires"`
	Attempt int    `json:"attempt"`
	// Hold is the quota, in the platform's units, held for the job: all it
	// may use (nmp's workers bound the job's time by it). 0: no quota held.
	Hold float64 `json:"hold"`
	// Stop, in a lease renewal's answer, says why the runner must stop the
	// job (its collab's quota no longer covers its hold): the runner ends it
	// as an error, charged what it used. The lease stays valid meanwhile.
	Stop string `json:"stop,omitempty"`
}

// DataItem is a file: an input of a job, or one of its outputs.
type DataItem struct {
	URL         string  `json:"url"`
	Path        string  `json:"path"`
	ContentType *string `json:"content_type"`
	Size        *int64  `json:"size"`
	Hash        *string `json:"hash"`
}

// DataSet is a job's output files and where they are kept.
type DataSet struct {
	Repository string     `json:"repository"`
	Files      []DataItem `json:"files"`
}

// Usage is a job's or session's resource usage, in its platform's units.
type Usage struct {
	Value float64 `json:"value"`
	Units string  `json:"units"`
}

// Comment is a comment on a job.
type Comment struct {
	ID          int64  `json:"id"`
	JobID       int64  `json:"job_id"`
	Content     string `json:"content"`
	UserID      string `json:"user_id"`
	Timestamp   Time   `json:"timestamp"`
	ResourceURI string `json:"resource_uri"`
}

// Quota is a platform's allowance in a resource request.
type Quota struct {
	ID          int64   `json:"id"`
	Limit       float64 `json:"limit"`
	Platform    string  `json:"platform"`
	Units       string  `json:"units"`
	Usage       float64 `json:"usage"`
	Reserved    float64 `json:"reserved"`
	Project     string  `json:"project"`
	ResourceURI string  `json:"resource_uri"`
}

// Project is a resource request. Its dates are days (2024-05-01).
type Project struct {
	ID string `json:"id"`
	// Context repeats ID: nmpi 0.11 prints it after create_resource_request(submit=True).
	Context        string  `json:"context"`
	Collab         string  `json:"collab"`
	Title          string  `json:"title"`
	Abstract       string  `json:"abstract"`
	Description    *string `json:"description"`
	Owner          string  `json:"owner"`
	Access         string  `json:"access"`
	SubmissionDate *string `json:"submission_date"`
	DecisionDate   *string `json:"decision_date"`
	Status         string  `json:"status"`
	ResourceURI    string  `json:"resource_uri"`
	Quotas         []Quota `json:"quotas"`
	// DecisionReason is the administrator's comment on the decision (nmp's addition).
	DecisionReason string `json:"decision_reason,omitempty"`
}

// Session is an interactive session a provider opened for a user.
type Session struct {
	ID               int64           `json:"id"`
	ResourceURI      string          `json:"resource_uri"`
	Collab           string          `json:"collab"`
	UserID           string          `json:"user_id"`
	HardwarePlatform string          `json:"hardware_platform"`
	HardwareConfig   json.RawMessage `json:"hardware_config"`
	Status           string          `json:"status"`
	Started          Time            `json:"timestamp_start"`
	Ended            *Time           `json:"timestamp_end"`
	ResourceUsage    Usage           `json:"resource_usage"`
}

// PlatformStatus is a platform's status: "ok", "degraded", "down" or "unavailable".
type PlatformStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	// Calibrations are the platform's chips' calibrations (nmp's addition,
	// on platforms with emulated chips that workers serve).
	Calibrations []ChipCalibration `json:"calibrations,omitempty"`
}

// About is the server's about document (GET /).
type About struct {
	About          string                    `json:"about"`
	Version        string                    `json:"version"`
	Server         string                    `json:"server"`
	Status         string                    `json:"status"`
	Platforms      map[string]PlatformStatus `json:"platforms"`
	Links          map[string]string         `json:"links"`
	Authentication map[string]string         `json:"authentication"`
}

// UserInfo is who a token belongs to, in the shape of an OpenID Connect
// userinfo answer that the nmpi client reads.
type UserInfo struct {
	Sub               string `json:"sub"`
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	GivenName         string `json:"given_name"`
	FamilyName        string `json:"family_name"`
	Email             string `json:"email,omitempty"`
	// Roles["team"] lists "collab-NAME-ROLE" for each collab and role.
	Roles map[string][]string `json:"roles"`
}

// Collabs maps the user's collabs to their role in each.
func (u *UserInfo) Collabs() map[string]string {
	out := map[string]string{}
	for _, team := range u.Roles["team"] {
		rest, ok := strings.CutPrefix(team, "collab-")
		if !ok {
			continue
		}
		for _, role := range []string{"viewer", "editor", "administrator"} {
			if c, ok := strings.CutSuffix(rest, "-"+role); ok {
				out[c] = role
			}
		}
	}
	return out
}

// Token is the answer to a login (POST /token).
type Token struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int64    `json:"expires_in"`
	TokenExpires Time     `json:"token_expires"`
	User         UserInfo `json:"user"`
}

// CodeArchive is the answer to a code upload (POST /code, nmp's addition):
// the URL to submit as a job's code.
type CodeArchive struct {
	URL     string `json:"url"`
	Size    int64  `json:"size"`
	Hash    string `json:"hash"`
	Expires Time   `json:"expires"`
}

// SummaryPath is the output file in which nmp's workers put the compact data
// summary of a finished job (the spikes, membrane traces and mappings its
// recorded data files hold, downsampled), which the web interface plots.
const SummaryPath = ".nmp/summary.json"
