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
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nmp-platform/nmp/internal/apiclient"
	"github.com/nmp-platform/nmp/nmpi"
)

// Errors the client returns; test with errors.Is.
var (
	// ErrNoJob: the platform's queue is empty.
	ErrNoJob = errors.New("no queued job")
	// ErrLeaseLost: the job's lease expired and the job went back to the queue
	// (or ended); the runner must stop working on it.
	ErrLeaseLost = errors.New("lease lost")
	// ErrStop: the server asks the runner to stop the job (its collab's quota
	// no longer covers what the job holds). The lease stays valid, so that the
	// runner can upload what the job wrote and end it; errors.As gives the
	// *StopError with the server's reason.
	ErrStop = errors.New("the server asks to stop the job")
)

// StopError is ErrStop with the server's reason.
type StopError struct {
	Job    int64
	Reason string
}

func (e *StopError) Error() string {
	return fmt.Sprintf("job %d: the server asks to stop it: %s", e.Job, e.Reason)
}

// Is makes errors.Is(err, ErrStop) hold.
func (e *StopError) Is(target error) bool { return target == ErrStop }

// Job statuses a runner sets.
const (
	Running  = nmpi.StatusRunning
	Finished = nmpi.StatusFinished
	Error    = nmpi.StatusError
)

// The documents the server sends, under the names this package's callers use.
type (
	// APIError is an error answer of the server.
	APIError = nmpi.Error
	// DataItem is a file, as the API describes it.
	DataItem = nmpi.DataItem
	// DataSet is a set of output files.
	DataSet = nmpi.DataSet
	// Usage is the resource usage of a job, in its platform's units
	// (core-hours, wafer-hours, chip-hours or hours).
	Usage = nmpi.Usage
	// Lease is a runner's hold on a claimed job.
	Lease = nmpi.Lease
)

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

// Job is a job as the server sends it, with its lease guarded for Hold.
type Job struct {
	nmpi.Job

	mu sync.Mutex // guards Lease during Hold
}

// Attempt is the attempt of the lease the job is held under (1 for the
// first run; 0 without a lease). Hold renews the lease in the background,
// so readers go through this rather than j.Lease.
func (j *Job) Attempt() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Lease == nil {
		return 0
	}
	return j.Lease.Attempt
}

// LeaseID is the id of the lease the job is held under ("" if none).
func (j *Job) LeaseID() string { return j.leaseID() }

func (j *Job) leaseID() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Lease == nil {
		return ""
	}
	return j.Lease.ID
}

// do sends a request and decodes a JSON answer into out (if not nil). Error
// answers name the server; a lost lease is also ErrLeaseLost.
func (c *Client) do(ctx context.Context, req *apiclient.Request, lease string, out any) error {
	req.Header = http.Header{}
	req.Header.Set("x-api-key", c.APIKey)
	if lease != "" {
		req.Header.Set(leaseHeader, lease)
	}
	err := apiclient.Do(ctx, c.HTTP, c.BaseURL, req, out)
	var e *APIError
	if !errors.As(err, &e) {
		return err
	}
	ae := fmt.Errorf("job queue server: %d: %w", e.Status, e)
	if e.Status == http.StatusConflict && strings.Contains(e.Detail, "lease lost") {
		return fmt.Errorf("%w: %w", ErrLeaseLost, ae)
	}
	return ae
}

// leaseHeader is api.LeaseHeader (not imported: the client does not depend on the server).
const leaseHeader = "X-Nmp-Lease"

func call(method, path string) *apiclient.Request {
	return &apiclient.Request{Method: method, Path: path}
}

// Claim takes the oldest queued job of the platform. The job is running and
// leased to the caller; ErrNoJob when the queue is empty.
func (c *Client) Claim(ctx context.Context, platform string) (*Job, error) {
	return c.ClaimHold(ctx, platform, 0, 0)
}

// ClaimHold is Claim for a runner that lets a job use up to hold of the
// platform's units: the server holds as much of the collab's quota for the
// job as it has room for, up to hold, and says how much in the lease (Hold),
// which is all the job may use. Jobs whose quota has less room than minHold
// while other jobs holding it run are passed over until those end.
func (c *Client) ClaimHold(ctx context.Context, platform string, hold, minHold float64) (*Job, error) {
	var j Job
	path := "/jobs/next/" + url.PathEscape(platform)
	if hold > 0 {
		path += "?hold=" + strconv.FormatFloat(hold, 'g', -1, 64) + "&min_hold=" + strconv.FormatFloat(minHold, 'g', -1, 64)
	}
	err := c.do(ctx, call(http.MethodPost, path), "", &j)
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
	if err := c.do(ctx, call(http.MethodGet, fmt.Sprintf("/jobs/%d?with_log=%v", id, withLog)), "", &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Renew extends the job's lease. When the server asks for the job to be
// stopped, the lease is renewed all the same and the error is a *StopError
// (errors.Is(err, ErrStop)).
func (c *Client) Renew(ctx context.Context, j *Job) error {
	var l Lease
	if err := c.do(ctx, call(http.MethodPost, fmt.Sprintf("/jobs/%d/lease", j.ID)), j.leaseID(), &l); err != nil {
		return err
	}
	j.mu.Lock()
	if j.Lease != nil && l.Hold == 0 {
		l.Hold = j.Lease.Hold // servers that do not say keep the claim's
	}
	j.Lease = &l
	j.mu.Unlock()
	if l.Stop != "" {
		return &StopError{Job: j.ID, Reason: l.Stop}
	}
	return nil
}

// Hold renews the job's lease in the background, at a third of its length,
// until release is called. The returned context is cancelled, with cause
// ErrLeaseLost, if the lease is lost: stop working on the job then. It is
// cancelled with a *StopError (ErrStop) when the server asks for the job to
// be stopped; the lease is still renewed until release, so that the job can
// be ended under it.
func (c *Client) Hold(ctx context.Context, j *Job) (context.Context, func()) {
	return c.HoldEvery(ctx, j, 0)
}

// HoldEvery is Hold renewing at least every interval (0: a third of the
// lease), so that a request to stop the job is heard within that time.
func (c *Client) HoldEvery(ctx context.Context, j *Job, interval time.Duration) (context.Context, func()) {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	j.mu.Lock()
	every := time.Minute
	if j.Lease != nil {
		// An already expired lease is renewed (or found lost) at once.
		every = time.Until(j.Lease.Expires.Time) / 3
	}
	j.mu.Unlock()
	if interval > 0 && interval < every {
		every = interval
	}
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
			case <-parent.Done():
				return
			case <-t.C:
				err := c.Renew(parent, j)
				if errors.Is(err, ErrLeaseLost) {
					cancel(err)
					return
				}
				if errors.Is(err, ErrStop) {
					cancel(err) // once; the lease is renewed on
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
	return c.do(ctx, textBody(http.MethodPatch, fmt.Sprintf("/jobs/%d/log", j.ID), text), j.leaseID(), nil)
}

// SetLog replaces the job's log.
func (c *Client) SetLog(ctx context.Context, j *Job, text string) error {
	return c.do(ctx, textBody(http.MethodPut, fmt.Sprintf("/jobs/%d/log", j.ID), text), j.leaseID(), nil)
}

func textBody(method, path, text string) *apiclient.Request {
	return &apiclient.Request{Method: method, Path: path, Body: strings.NewReader(text), ContentType: "text/plain; charset=utf-8"}
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
	if err := c.do(ctx, &apiclient.Request{Method: http.MethodPut, Path: fmt.Sprintf("/jobs/%d/files/%s", j.ID, strings.Join(segs, "/")), Body: r, ContentType: contentType}, j.leaseID(), &it); err != nil {
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
	var out nmpi.Job
	if err := c.do(ctx, &apiclient.Request{Method: http.MethodPut, Path: fmt.Sprintf("/jobs/%d", j.ID), JSON: u}, j.leaseID(), &out); err != nil {
		return err
	}
	j.Status = out.Status
	return nil
}

// Finish ends the job with status Finished or Error and its resource usage.
func (c *Client) Finish(ctx context.Context, j *Job, status string, usage *Usage) error {
	return c.Update(ctx, j, &Update{Status: status, ResourceUsage: usage})
}
