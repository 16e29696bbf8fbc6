// Package provider is a Go client for the provider side of an nmp job queue
// server: what a hardware system's runner (nmp worker) does with its API key.
//
// A runner claims the next job of its platform, holds the job's lease while it
// runs it (the lease is renewed in the background; if it is lost, the job was
// given back to the queue and the runner must stop), appends log lines as they
// come, uploads output files, and finishes the job with its resource usage:
//
//	c := provider.New("http://localhost:8080", apiKey)
//	job, err := c.Claim(ctx, "BrainScaleS-2")
//	if errors.Is(err, provider.ErrNoJob) { /* sleep and retry */ }
//	ctx, release := c.Hold(ctx, job)   // ctx ends if the lease is lost
//	defer release()
//	c.AppendLog(ctx, job, "mapping done\n")
//	c.UploadFile(ctx, job, "spikes.npz", "/tmp/job42/spikes.npz")
//	c.Finish(ctx, job, provider.Finished, &provider.Usage{Value: 0.002, Units: "chip-hours"})
package provider

import (
	"github.com/nmp-platform/nmp/internal/httperr"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Errors the client returns; test with errors.Is.
var (
	// ErrNoJob: the platform's queue is empty.
	ErrNoJob = errors.New("no queued job")
	// ErrLeaseLost: the job's lease expired and the job went back to the queue
	// (or ended); the runner must stop working on it.
	ErrLeaseLost = errors.New("lease lost")
)

// Job statuses a runner sets.
const (
	Running  = "running"
	Finished = "finished"
	Error    = "error"
)

// APIError is an error answer of the server.
type APIError struct {
	Status int
	Detail string
}

func (e *APIError) Error() string { return fmt.Sprintf("job queue server: %d: %s", e.Status, e.Detail) }

// Client calls the provider side of the API. Its zero value is not usable: use New.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// New returns a client for the server at baseURL with the provider's API key.
func New(baseURL, apiKey string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// DataItem is a file, as the API describes it.
type DataItem struct {
	URL         string  `json:"url"`
	Path        string  `json:"path,omitempty"`
	ContentType *string `json:"content_type,omitempty"`
	Size        *int64  `json:"size,omitempty"`
	Hash        *string `json:"hash,omitempty"`
}

// DataSet is a set of output files.
type DataSet struct {
	Repository string     `json:"repository"`
	Files      []DataItem `json:"files"`
}

// Usage is the resource usage of a job, in its platform's units (core-hours,
// wafer-hours, chip-hours or hours).
type Usage struct {
	Value float64 `json:"value"`
	Units string  `json:"units"`
}

// Lease is a runner's hold on a claimed job.
type Lease struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
	Attempt int       `json:"attempt"`
}

// Job is a job as the server sends it.
type Job struct {
	ID               int64           `json:"id"`
	Code             string          `json:"code"`
	Command          string          `json:"command"`
	Collab           string          `json:"collab"`
	UserID           string          `json:"user_id"`
	Status           string          `json:"status"`
	HardwarePlatform string          `json:"hardware_platform"`
	HardwareConfig   json.RawMessage `json:"hardware_config"`
	InputData        []DataItem      `json:"input_data"`
	Tags             []string        `json:"tags"`
	Submitted        time.Time       `json:"timestamp_submission"`
	OutputData       *DataSet        `json:"output_data"`
	ResourceUsage    *Usage          `json:"resource_usage"`
	Log              *string         `json:"log"`
	Lease            *Lease          `json:"lease,omitempty"`

	mu sync.Mutex // guards Lease during Hold
}

func (j *Job) leaseID() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Lease == nil {
		return ""
	}
	return j.Lease.ID
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType, lease string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("x-api-key", c.APIKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if lease != "" {
		req.Header.Set("X-Nmp-Lease", lease)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		msg := httperr.Detail(resp.Status, data)
		ae := &APIError{Status: resp.StatusCode, Detail: msg}
		if resp.StatusCode == http.StatusConflict && strings.Contains(msg, "lease lost") {
			return fmt.Errorf("%w: %w", ErrLeaseLost, ae)
		}
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("job queue server: unexpected answer to %s %s: %w", method, path, err)
		}
	}
	return nil
}

func (c *Client) jsonDo(ctx context.Context, method, path string, in any, lease string, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, bytes.NewReader(data), "application/json", lease, out)
}

// Claim takes the oldest queued job of the platform. The job is running and
// leased to the caller; ErrNoJob when the queue is empty.
func (c *Client) Claim(ctx context.Context, platform string) (*Job, error) {
	var j Job
	err := c.do(ctx, http.MethodPost, "/jobs/next/"+url.PathEscape(platform), nil, "", "", &j)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, fmt.Errorf("%s: %w", platform, ErrNoJob)
	}
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// Get reads a job of the provider's platforms.
func (c *Client) Get(ctx context.Context, id int64, withLog bool) (*Job, error) {
	var j Job
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/jobs/%d?with_log=%v", id, withLog), nil, "", "", &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Renew extends the job's lease.
func (c *Client) Renew(ctx context.Context, j *Job) error {
	var l Lease
	if err := c.do(ctx, http.MethodPost, fmt.Sprintf("/jobs/%d/lease", j.ID), nil, "", j.leaseID(), &l); err != nil {
		return err
	}
	j.mu.Lock()
	j.Lease = &l
	j.mu.Unlock()
	return nil
}

// Hold renews the job's lease in the background, at a third of its length,
// until release is called. The returned context is cancelled, with cause
// ErrLeaseLost, if the lease is lost: stop working on the job then.
func (c *Client) Hold(ctx context.Context, j *Job) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	j.mu.Lock()
	every := time.Minute
	if j.Lease != nil {
		// An already expired lease is renewed (or found lost) at once.
		every = time.Until(j.Lease.Expires) / 3
	}
	j.mu.Unlock()
	if every < 50*time.Millisecond {
		every = 50 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				err := c.Renew(ctx, j)
				if errors.Is(err, ErrLeaseLost) {
					cancel(err)
					return
				}
				// Other errors (a restarting server) are retried at the next tick;
				// the lease has two more ticks to run.
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			cancel(nil)
		})
	}
}

// AppendLog adds text to the end of the job's log.
func (c *Client) AppendLog(ctx context.Context, j *Job, text string) error {
	return c.do(ctx, http.MethodPatch, fmt.Sprintf("/jobs/%d/log", j.ID), strings.NewReader(text), "text/plain; charset=utf-8", j.leaseID(), nil)
}

// SetLog replaces the job's log.
func (c *Client) SetLog(ctx context.Context, j *Job, text string) error {
	return c.do(ctx, http.MethodPut, fmt.Sprintf("/jobs/%d/log", j.ID), strings.NewReader(text), "text/plain; charset=utf-8", j.leaseID(), nil)
}

// Upload stores an output file of the job under path (relative, slash-separated).
// Uploading the same path again replaces the file. The answer carries the file's
// signed download URL, size and SHA-1.
func (c *Client) Upload(ctx context.Context, j *Job, path string, r io.Reader, contentType string) (*DataItem, error) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	var it DataItem
	if err := c.do(ctx, http.MethodPut, fmt.Sprintf("/jobs/%d/files/%s", j.ID, strings.Join(segs, "/")), r, contentType, j.leaseID(), &it); err != nil {
		return nil, err
	}
	return &it, nil
}

// UploadFile uploads a local file.
func (c *Client) UploadFile(ctx context.Context, j *Job, path, local string) (*DataItem, error) {
	f, err := os.Open(local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return c.Upload(ctx, j, path, f, "")
}

// Update is a change to a job; nil fields are left as they are.
type Update struct {
	Status        string   `json:"status,omitempty"`
	ResourceUsage *Usage   `json:"resource_usage,omitempty"`
	Provenance    any      `json:"provenance,omitempty"`
	OutputData    *DataSet `json:"output_data,omitempty"`
	Log           *string  `json:"log,omitempty"`
}

// Update changes the job. Ending it (Finished or Error) releases the lease and
// charges the usage to the collab's quota.
func (c *Client) Update(ctx context.Context, j *Job, u *Update) error {
	var out Job
	if err := c.jsonDo(ctx, http.MethodPut, fmt.Sprintf("/jobs/%d", j.ID), u, j.leaseID(), &out); err != nil {
		return err
	}
	j.Status = out.Status
	return nil
}

// Finish ends the job with status Finished or Error and its resource usage.
func (c *Client) Finish(ctx context.Context, j *Job, status string, usage *Usage) error {
	return c.Update(ctx, j, &Update{Status: status, ResourceUsage: usage})
}
