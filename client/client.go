// Package client is a Go client for the user side of an nmp job queue server
// (the calls the nmpi Python client makes, and nmp's code upload): submit
// jobs, follow them, read their logs, download their output files, and read
// quotas and resource requests. The nmp command line (nmp submit, jobs, job,
// log, download, quotas, requests) is built on it.
//
//	c := client.New("http://localhost:8080", token)
//	job, err := c.Submit(ctx, &client.Submission{Code: script, Command: "run.py {system}", Platform: "Demo", Collab: "demo"})
//	job, err = c.Wait(ctx, job.ID, nil)
//	paths, err := c.Download(ctx, job, "results")
package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/internal/apiclient"
	"github.com/nmp-platform/nmp/nmpi"
)

// Client calls a job queue server with a user's token.
type Client struct {
	Server string
	Token  string
	HTTP   *http.Client
}

// New returns a client for the server at serverURL.
func New(serverURL, token string) *Client {
	return &Client{Server: strings.TrimRight(serverURL, "/"), Token: token, HTTP: &http.Client{Timeout: 10 * time.Minute}}
}

// The documents the server sends, under the names this package's callers use.
type (
	// Job is a job as the server shows it.
	Job = nmpi.Job
	// DataItem is a file of a job.
	DataItem = nmpi.DataItem
	// Usage is a job's resource usage in its platform's units.
	Usage = nmpi.Usage
	// Quota is a quota of a resource request.
	Quota = nmpi.Quota
	// Project is a resource request.
	Project = nmpi.Project
	// PlatformStatus is a platform's status in the server's about document.
	PlatformStatus = nmpi.PlatformStatus
	// About is the server's about document (GET /).
	About = nmpi.About
	// UserInfo is who the token belongs to.
	UserInfo = nmpi.UserInfo
	// Error is an error answer of the server.
	Error = nmpi.Error
)

// Unreachable tells whether err means the server could not be reached (as
// opposed to an answer), so that a caller may retry.
func Unreachable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	return apiclient.Do(ctx, c.HTTP, c.Server, &apiclient.Request{Method: method, Path: path, Header: c.header(), Body: body, ContentType: contentType}, out)
}

// jsonDo sends in as a JSON body.
func (c *Client) jsonDo(ctx context.Context, method, path string, in, out any) error {
	return apiclient.Do(ctx, c.HTTP, c.Server, &apiclient.Request{Method: method, Path: path, Header: c.header(), JSON: in}, out)
}

func (c *Client) header() http.Header {
	h := http.Header{}
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	return h
}

// About reads the server's about document.
func (c *Client) About(ctx context.Context) (*About, error) {
	var a About
	return &a, c.do(ctx, http.MethodGet, "/", nil, "", &a)
}

// UserInfo reads who the token belongs to.
func (c *Client) UserInfo(ctx context.Context) (*UserInfo, error) {
	var u UserInfo
	return &u, c.do(ctx, http.MethodGet, "/userinfo", nil, "", &u)
}

// Submission is a job to submit.
type Submission struct {
	Code           string
	Command        string
	Platform       string
	Collab         string
	HardwareConfig map[string]any
	Inputs         []string
	Tags           []string
	// IdempotencyKey is sent with the submission and its retries (default: random).
	IdempotencyKey string
}

// Submit submits a job.
func (c *Client) Submit(ctx context.Context, s *Submission) (*Job, error) {
	body := map[string]any{"code": s.Code, "command": s.Command, "hardware_platform": s.Platform, "collab": s.Collab}
	if s.HardwareConfig != nil {
		body["hardware_config"] = s.HardwareConfig
	}
	if len(s.Inputs) > 0 {
		var in []map[string]string
		for _, u := range s.Inputs {
			in = append(in, map[string]string{"url": u})
		}
		body["input_data"] = in
	}
	if len(s.Tags) > 0 {
		body["tags"] = s.Tags
	}
	key := s.IdempotencyKey
	if key == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		key = hex.EncodeToString(b)
	}
	h := c.header()
	h.Set("Idempotency-Key", key)
	// A submission whose answer was lost (a reset connection, a gateway's 502)
	// is sent again with the same key: the server makes one job of them.
	var err error
	for attempt := 0; attempt < submitAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		var j Job
		err = apiclient.Do(ctx, c.HTTP, c.Server, &apiclient.Request{Method: http.MethodPost, Path: "/jobs/", Header: h, JSON: body}, &j)
		if err == nil {
			return &j, nil
		}
		if !Unreachable(err) {
			return nil, err
		}
	}
	return nil, err
}

// submitAttempts is how many times Submit sends a submission whose answer it did not get.
const submitAttempts = 4

// UploadCode stores an archive (tar.gz or zip) of a code directory for jobs
// of the collab, and returns the URL to submit as the job's code.
func (c *Client) UploadCode(ctx context.Context, collab string, archive io.Reader, contentType string) (string, error) {
	var out nmpi.CodeArchive
	if err := c.do(ctx, http.MethodPost, "/code?collab="+url.QueryEscape(collab), archive, contentType, &out); err != nil {
		return "", err
	}
	return out.URL, nil
}

// Job reads a job, with its log if withLog.
func (c *Client) Job(ctx context.Context, id int64, withLog bool) (*Job, error) {
	var j Job
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/jobs/%d?with_log=%v", id, withLog), nil, "", &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Comment adds a comment to a job.
func (c *Client) Comment(ctx context.Context, id int64, content string) error {
	return c.jsonDo(ctx, http.MethodPost, fmt.Sprintf("/jobs/%d/comments", id), map[string]string{"content": content}, nil)
}

// Comments lists a job's comments, oldest first.
func (c *Client) Comments(ctx context.Context, id int64) ([]nmpi.Comment, error) {
	var out []nmpi.Comment
	return out, c.do(ctx, http.MethodGet, fmt.Sprintf("/jobs/%d/comments", id), nil, "", &out)
}

// Log reads a job's log.
func (c *Client) Log(ctx context.Context, id int64) (string, error) {
	var s string
	return s, c.do(ctx, http.MethodGet, fmt.Sprintf("/jobs/%d/log", id), nil, "", &s)
}

// JobQuery selects jobs; empty fields select all (the server restricts a
// query without collab to the caller's own jobs).
type JobQuery struct {
	Status   []string
	Collab   []string
	Platform []string
	Tags     []string
	Size     int
	From     int
}

// Jobs lists jobs, newest first.
func (c *Client) Jobs(ctx context.Context, q JobQuery) ([]Job, error) {
	v := url.Values{}
	for _, s := range q.Status {
		v.Add("status", s)
	}
	for _, s := range q.Collab {
		v.Add("collab", s)
	}
	for _, s := range q.Platform {
		v.Add("hardware_platform", s)
	}
	for _, s := range q.Tags {
		v.Add("tags", s)
	}
	if q.Size > 0 {
		v.Set("size", strconv.Itoa(q.Size))
	}
	if q.From > 0 {
		v.Set("from_index", strconv.Itoa(q.From))
	}
	var out []Job
	return out, c.do(ctx, http.MethodGet, "/jobs/?"+v.Encode(), nil, "", &out)
}

// Projects lists the resource requests of a collab ("" for all the caller
// may see), optionally with one status.
func (c *Client) Projects(ctx context.Context, collab, status string) ([]Project, error) {
	v := url.Values{}
	if collab != "" {
		v.Set("collab", collab)
	}
	if status != "" {
		v.Set("status", status)
	}
	v.Set("size", "100000")
	var out []Project
	return out, c.do(ctx, http.MethodGet, "/projects/?"+v.Encode(), nil, "", &out)
}

// Wait polls the job until it ends, calling progress (if not nil) with each
// new state. The pause between polls grows from 0.5 s to 5 s; while the
// server is unreachable it keeps trying until ctx ends.
func (c *Client) Wait(ctx context.Context, id int64, progress func(*Job)) (*Job, error) {
	delay := 500 * time.Millisecond
	last := ""
	for {
		j, err := c.Job(ctx, id, false)
		switch {
		case err == nil:
			if j.Status != last {
				last = j.Status
				delay = 500 * time.Millisecond
			}
			if progress != nil {
				progress(j)
			}
			if j.Ended() {
				return c.Job(ctx, id, true)
			}
		case Unreachable(err):
			if progress != nil {
				progress(&Job{ID: id, Status: "server unreachable: " + err.Error()})
			}
		default:
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 5*time.Second {
			delay = delay * 3 / 2
		}
	}
}

// Download saves the job's output files below dir, at their paths, and
// returns the local paths. The download URLs are signed and need no token.
// A path that would leave dir is refused.
func (c *Client) Download(ctx context.Context, j *Job, dir string) ([]string, error) {
	var out []string
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range j.Files() {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if f.Path == "" || !strings.HasPrefix(p, root+string(filepath.Separator)) {
			return out, fmt.Errorf("output file %q of job %d: its path leaves %s", f.Path, j.ID, dir)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return out, err
		}
		if err := c.fetch(ctx, f.URL, p); err != nil {
			return out, fmt.Errorf("output file %s of job %d: %w", f.Path, j.ID, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func (c *Client) fetch(ctx context.Context, u, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	tmp := dst + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
