package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/nmp-platform/nmp/store"
)

// The JSON documents of the nmpi v3 API. Every key is always present, null when
// unset, as pydantic writes them.

type jobJSON struct {
	ID                  int64           `json:"id"`
	Code                string          `json:"code"`
	Command             string          `json:"command"`
	Collab              string          `json:"collab"`
	InputData           json.RawMessage `json:"input_data"`
	HardwarePlatform    string          `json:"hardware_platform"`
	HardwareConfig      json.RawMessage `json:"hardware_config"`
	Tags                []string        `json:"tags"`
	UserID              string          `json:"user_id"`
	Status              string          `json:"status"`
	TimestampSubmission string          `json:"timestamp_submission"`
	ResourceURI         string          `json:"resource_uri"`
	OutputData          *dataSetJSON    `json:"output_data"`
	Provenance          json.RawMessage `json:"provenance"`
	TimestampCompletion *string         `json:"timestamp_completion"`
	ResourceUsage       *usageJSON      `json:"resource_usage"`
	Comments            []commentJSON   `json:"comments"`
	Log                 *string         `json:"log"`
	// Lease is set only in the answer to a claim (POST /jobs/next/{platform}).
	Lease *leaseJSON `json:"lease,omitempty"`
}

type leaseJSON struct {
	ID      string `json:"id"`
	Expires string `json:"expires"`
	Attempt int    `json:"attempt"`
}

type usageJSON struct {
	Value float64 `json:"value"`
	Units string  `json:"units"`
}

type dataItemJSON struct {
	URL         string  `json:"url"`
	Path        string  `json:"path"`
	ContentType *string `json:"content_type"`
	Size        *int64  `json:"size"`
	Hash        *string `json:"hash"`
}

type dataSetJSON struct {
	Repository string         `json:"repository"`
	Files      []dataItemJSON `json:"files"`
}

type commentJSON struct {
	ID          int64  `json:"id"`
	JobID       int64  `json:"job_id"`
	Content     string `json:"content"`
	UserID      string `json:"user_id"`
	Timestamp   string `json:"timestamp"`
	ResourceURI string `json:"resource_uri"`
}

func commentOf(c *store.Comment) commentJSON {
	return commentJSON{ID: c.ID, JobID: c.JobID, Content: c.Content, UserID: c.UserID, Timestamp: ts(c.CreatedAt),
		ResourceURI: fmt.Sprintf("/jobs/%d/comments/%d", c.JobID, c.ID)}
}

func (s *Server) units(platform string) string {
	if u, ok := s.cfg.PlatformTable.Units(platform); ok {
		return u
	}
	return "hours"
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// repositoryOf names where files live, from the first file's host, as the reference server does.
func (s *Server) repositoryOf(items []store.DataItem) string {
	if len(items) == 0 {
		return ""
	}
	if items[0].Stored {
		return "nmp temporary storage"
	}
	u, err := url.Parse(items[0].URL)
	if err != nil {
		return "unknown data repository"
	}
	if name := s.cfg.PlatformTable.StorageName(u.Hostname()); name != "" {
		return name
	}
	switch u.Hostname() {
	case "drive.ebrains.eu":
		return "EBRAINS Drive"
	case "data-proxy.ebrains.eu":
		return "EBRAINS Bucket"
	case "example.com":
		return "Fake repository used for testing"
	}
	return "unknown data repository"
}

func (s *Server) dataSetOf(r *http.Request, j *store.Job, items []store.DataItem) *dataSetJSON {
	if len(items) == 0 {
		return nil
	}
	ds := &dataSetJSON{Repository: j.OutputRepository, Files: make([]dataItemJSON, len(items))}
	if ds.Repository == "" {
		ds.Repository = s.repositoryOf(items)
	}
	for i, it := range items {
		u := it.URL
		if it.Stored {
			u = s.signedURL(r, it.JobID, it.Path)
		}
		ds.Files[i] = dataItemJSON{URL: u, Path: it.Path, ContentType: strp(it.ContentType), Size: it.Size, Hash: strp(it.Hash)}
	}
	return ds
}

func (s *Server) jobOf(r *http.Request, j *store.Job, items []store.DataItem) jobJSON {
	out := jobJSON{
		ID: j.ID, Code: j.Code, Command: j.Command, Collab: j.Collab, InputData: j.InputData, HardwarePlatform: j.HardwarePlatform,
		HardwareConfig: j.HardwareConfig, Tags: j.Tags, UserID: j.UserID, Status: j.Status, TimestampSubmission: ts(j.SubmittedAt),
		ResourceURI: fmt.Sprintf("/jobs/%d", j.ID), Provenance: j.Provenance, TimestampCompletion: tsp(j.CompletedAt),
		OutputData: s.dataSetOf(r, j, items),
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if j.ResourceUsage != nil {
		out.ResourceUsage = &usageJSON{Value: *j.ResourceUsage, Units: s.units(j.HardwarePlatform)}
	}
	return out
}

// jobsOf renders jobs with their output files, read in one query.
func (s *Server) jobsOf(ctx context.Context, r *http.Request, jobs []store.Job) ([]jobJSON, error) {
	ids := make([]int64, len(jobs))
	for i := range jobs {
		ids[i] = jobs[i].ID
	}
	items, err := s.st.DataItemList(ctx, ids)
	if err != nil {
		return nil, err
	}
	byJob := map[int64][]store.DataItem{}
	for _, it := range items {
		byJob[it.JobID] = append(byJob[it.JobID], it)
	}
	out := make([]jobJSON, len(jobs))
	for i := range jobs {
		out[i] = s.jobOf(r, &jobs[i], byJob[jobs[i].ID])
	}
	return out, nil
}

type quotaJSON struct {
	ID          int64   `json:"id"`
	Limit       float64 `json:"limit"`
	Platform    string  `json:"platform"`
	Units       string  `json:"units"`
	Usage       float64 `json:"usage"`
	Reserved    float64 `json:"reserved"`
	Project     string  `json:"project"`
	ResourceURI string  `json:"resource_uri"`
}

func quotaOf(q *store.Quota) quotaJSON {
	return quotaJSON{ID: q.ID, Limit: q.Limit, Platform: q.Platform, Units: q.Units, Usage: q.Usage, Reserved: q.Reserved,
		Project: "/projects/" + q.ProjectID, ResourceURI: fmt.Sprintf("/projects/%s/quotas/%d", q.ProjectID, q.ID)}
}

type projectJSON struct {
	ID             string      `json:"id"`
	Context        string      `json:"context"` // = id: nmpi 0.11 prints it after create_resource_request(submit=True)
	Collab         string      `json:"collab"`
	Title          string      `json:"title"`
	Abstract       string      `json:"abstract"`
	Description    *string     `json:"description"`
	Owner          string      `json:"owner"`
	Access         string      `json:"access"`
	SubmissionDate *string     `json:"submission_date"`
	DecisionDate   *string     `json:"decision_date"`
	Status         string      `json:"status"`
	ResourceURI    string      `json:"resource_uri"`
	Quotas         []quotaJSON `json:"quotas"`
}

func projectOf(p *store.Project) projectJSON {
	out := projectJSON{ID: p.ID, Context: p.ID, Collab: p.Collab, Title: p.Title, Abstract: p.Abstract, Description: &p.Description,
		Owner: p.Owner, Access: p.Access, SubmissionDate: datep(p.SubmissionDate), DecisionDate: datep(p.DecisionDate),
		Status: p.Status(), ResourceURI: "/projects/" + p.ID, Quotas: make([]quotaJSON, len(p.Quotas))}
	for i := range p.Quotas {
		out.Quotas[i] = quotaOf(&p.Quotas[i])
	}
	return out
}

type sessionJSON struct {
	ID               int64           `json:"id"`
	ResourceURI      string          `json:"resource_uri"`
	Collab           string          `json:"collab"`
	UserID           string          `json:"user_id"`
	HardwarePlatform string          `json:"hardware_platform"`
	HardwareConfig   json.RawMessage `json:"hardware_config"`
	Status           string          `json:"status"`
	TimestampStart   string          `json:"timestamp_start"`
	TimestampEnd     *string         `json:"timestamp_end"`
	ResourceUsage    usageJSON       `json:"resource_usage"`
}

func (s *Server) sessionOf(x *store.Session) sessionJSON {
	out := sessionJSON{ID: x.ID, ResourceURI: fmt.Sprintf("/sessions/%d", x.ID), Collab: x.Collab, UserID: x.UserID, HardwarePlatform: x.HardwarePlatform,
		HardwareConfig: x.HardwareConfig, Status: x.Status, TimestampStart: ts(x.StartedAt), TimestampEnd: tsp(x.EndedAt),
		ResourceUsage: usageJSON{Units: s.units(x.HardwarePlatform)}}
	if x.ResourceUsage != nil {
		out.ResourceUsage.Value = *x.ResourceUsage
	}
	return out
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
