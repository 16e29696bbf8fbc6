package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nmp-platform/nmp/nmpi"
)

// The collab storage documents (nmp's addition).
type (
	// CollabStorage is a page of a collab's kept files.
	CollabStorage = nmpi.CollabStorage
	// KeptFile is an output file kept past the retention period.
	KeptFile = nmpi.KeptFile
)

// StorageQuery selects a page of a collab's kept files; zero fields: the server's defaults.
type StorageQuery struct {
	Job       int64 // only this job's
	Size      int   // page size (the server's default: 100)
	FromIndex int
	AsAdmin   bool
}

// Storage lists a page of the collab's kept files (copy_data_to_storage),
// newest jobs first.
func (c *Client) Storage(ctx context.Context, collab string, q StorageQuery) (*CollabStorage, error) {
	v := url.Values{}
	if q.Job > 0 {
		v.Set("job", strconv.FormatInt(q.Job, 10))
	}
	if q.Size > 0 {
		v.Set("size", strconv.Itoa(q.Size))
	}
	if q.FromIndex > 0 {
		v.Set("from_index", strconv.Itoa(q.FromIndex))
	}
	if q.AsAdmin {
		v.Set("as_admin", "true")
	}
	var out CollabStorage
	return &out, c.do(ctx, http.MethodGet, "/collabs/"+url.PathEscape(collab)+"/storage?"+v.Encode(), nil, "", &out)
}

// DeleteKept deletes a kept file of a job of the collab, freeing its storage.
func (c *Client) DeleteKept(ctx context.Context, collab string, job int64, path string) error {
	return c.do(ctx, http.MethodDelete, fmt.Sprintf("/collabs/%s/storage/%d/%s", url.PathEscape(collab), job, (&url.URL{Path: path}).EscapedPath()), nil, "", nil)
}

// DownloadKept saves a kept file as dir/job_ID/PATH and returns where. A
// path that would leave that directory is refused.
func (c *Client) DownloadKept(ctx context.Context, f KeptFile, dir string) (string, error) {
	root, err := filepath.Abs(filepath.Join(dir, fmt.Sprintf("job_%d", f.JobID)))
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, filepath.FromSlash(f.Path))
	if f.Path == "" || !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return "", fmt.Errorf("kept file %q of job %d: its path leaves %s", f.Path, f.JobID, root)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	if err := c.fetch(ctx, f.URL, p); err != nil {
		return "", fmt.Errorf("kept file %s of job %d: %w", f.Path, f.JobID, err)
	}
	return p, nil
}
