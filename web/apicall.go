package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/nmp-platform/nmp/internal/apiclient"
	"github.com/nmp-platform/nmp/nmpi"
)

// handlerTransport sends requests to the API's handler in this process: the
// pages reach the API without a network, under the same rules as every other
// client. The answer streams: the handler runs in its own goroutine and the
// response is returned as soon as it has written its header.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	rw := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{}), req: req}
	go func() {
		defer func() {
			if v := recover(); v != nil {
				rw.WriteHeader(http.StatusInternalServerError)
				_ = pw.CloseWithError(errors.New("the API handler panicked"))
				return
			}
			rw.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
			_ = pw.Close()
		}()
		t.h.ServeHTTP(rw, req)
	}()
	select {
	case <-rw.ready:
	case <-req.Context().Done():
		_ = pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	return rw.resp(pr), nil
}

type pipeWriter struct {
	header http.Header
	pw     *io.PipeWriter
	once   sync.Once
	ready  chan struct{}
	status int
	sent   http.Header
	req    *http.Request
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	w.once.Do(func() {
		w.status = code
		w.sent = w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(b)
}

// Flush lets streaming handlers flush; the pipe delivers writes at once.
func (w *pipeWriter) Flush() {}

func (w *pipeWriter) resp(body io.ReadCloser) *http.Response {
	return &http.Response{Status: http.StatusText(w.status), StatusCode: w.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, Body: body, ContentLength: -1, Request: w.req}
}

// caller is the API as one signed-in person sees it.
type caller struct {
	hc    *http.Client
	base  string // the server's URL as the browser reached it, so that the API's links point there
	proto string
	token string
}

func (c *caller) header() http.Header {
	h := http.Header{}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	if c.proto != "" {
		h.Set("X-Forwarded-Proto", c.proto)
	}
	return h
}

// do calls the API: JSON in (in not nil) and JSON out (out a pointer), or text out (*string).
func (c *caller) do(ctx context.Context, method, path string, in, out any) error {
	return apiclient.Do(ctx, c.hc, c.base, &apiclient.Request{Method: method, Path: path, Header: c.header(), JSON: in}, out)
}

// raw calls the API with a body of its own.
func (c *caller) raw(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	return apiclient.Do(ctx, c.hc, c.base, &apiclient.Request{Method: method, Path: path, Header: c.header(), Body: body, ContentType: contentType}, out)
}

// open starts a GET whose answer the caller reads as a stream (files).
func (c *caller) open(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header = c.header()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return nil, nmpi.ReadError(resp.StatusCode, resp.Status, b)
	}
	return resp, nil
}

// apiStatus is the HTTP status of an API error (0 when err is not one).
func apiStatus(err error) int {
	var e *nmpi.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// apiMessage is what the API said, for a page.
func apiMessage(err error) string {
	var e *nmpi.Error
	if errors.As(err, &e) && e.Detail != "" {
		return e.Detail
	}
	return strings.TrimSpace(err.Error())
}
