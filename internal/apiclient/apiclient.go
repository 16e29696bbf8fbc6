// Package apiclient is the HTTP plumbing that nmp's two Go clients of the job
// queue server (client, for users, and provider, for runners) share: it sends
// a request with its credentials and body, and reads a JSON answer or an
// error answer (as an *nmpi.Error).
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/nmp-platform/nmp/nmpi"
)

// MaxAnswer caps the size of an answer read into memory.
const MaxAnswer = 256 << 20

// Request is one call of the API.
type Request struct {
	Method string
	// Path is below the server's URL, with its query.
	Path string
	// Header holds the credentials and any other headers.
	Header http.Header
	// Body is sent as it is, with ContentType; if JSON is not nil, it is
	// encoded as the body instead.
	Body        io.Reader
	ContentType string
	JSON        any
}

// Do sends req to the server at base and reads the answer into out: a JSON
// document into a pointer, the text into a *string, nothing for nil. An
// answer with status 300 or more is returned as an *nmpi.Error.
func Do(ctx context.Context, hc *http.Client, base string, req *Request, out any) error {
	body, ct := req.Body, req.ContentType
	if req.JSON != nil {
		data, err := json.Marshal(req.JSON)
		if err != nil {
			return err
		}
		body, ct = bytes.NewReader(data), "application/json"
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, base+req.Path, body)
	if err != nil {
		return err
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return nmpi.ReadError(resp.StatusCode, resp.Status, data)
	}
	switch o := out.(type) {
	case nil:
	case *string:
		*o = string(data)
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("unexpected answer to %s %s: %w", req.Method, req.Path, err)
		}
	}
	return nil
}
