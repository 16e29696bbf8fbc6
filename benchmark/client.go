package benchmark

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nmp-platform/nmp/benchmark/compare"
	"github.com/nmp-platform/nmp/internal/apiclient"
)

// Client is a Go client of the benchmark API (nmp bench uses it).
type Client struct {
	Server, Token string
	HTTP          *http.Client
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	h := http.Header{}
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	return apiclient.Do(ctx, hc, c.Server, &apiclient.Request{Method: method, Path: path, Header: h, JSON: in}, out)
}

// Add registers a source.
func (c *Client) Add(ctx context.Context, req *AddRequest) (*AddResponse, error) {
	var out AddResponse
	return &out, c.do(ctx, http.MethodPost, "/benchmarks/sources", req, &out)
}

// Sources lists the registered sources.
func (c *Client) Sources(ctx context.Context) ([]SourceDoc, error) {
	var out []SourceDoc
	return out, c.do(ctx, http.MethodGet, "/benchmarks/sources", nil, &out)
}

// Remove deletes a source with its runs and measurements.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/benchmarks/sources/"+url.PathEscape(name), nil, nil)
}

// Poll fetches a git source now.
func (c *Client) Poll(ctx context.Context, name string) (*SourceDoc, error) {
	var out SourceDoc
	return &out, c.do(ctx, http.MethodPost, "/benchmarks/sources/"+url.PathEscape(name)+"/poll", nil, &out)
}

// Run starts a manual run.
func (c *Client) Run(ctx context.Context, req *RunRequest) ([]RunDoc, error) {
	var out []RunDoc
	return out, c.do(ctx, http.MethodPost, "/benchmarks/runs", req, &out)
}

// Runs lists runs, newest first (q: source, status, platform, limit).
func (c *Client) Runs(ctx context.Context, q url.Values) ([]RunDoc, error) {
	var out []RunDoc
	return out, c.do(ctx, http.MethodGet, "/benchmarks/runs?"+q.Encode(), nil, &out)
}

// Measurements lists measurements, oldest first (q: source, model, task,
// name, measure, platform, from, to, limit).
func (c *Client) Measurements(ctx context.Context, q url.Values) ([]MeasurementDoc, error) {
	var out []MeasurementDoc
	return out, c.do(ctx, http.MethodGet, "/benchmarks/measurements?"+q.Encode(), nil, &out)
}

// Latest lists the latest value of every series, with spread and band.
func (c *Client) Latest(ctx context.Context, q url.Values) ([]LatestDoc, error) {
	var out []LatestDoc
	return out, c.do(ctx, http.MethodGet, "/benchmarks/latest?"+q.Encode(), nil, &out)
}

// SystemChanged reports a change of a platform's configuration.
func (c *Client) SystemChanged(ctx context.Context, platform, reason string) error {
	return c.do(ctx, http.MethodPost, "/benchmarks/systems/"+url.PathEscape(platform)+"/changed", map[string]string{"reason": reason}, nil)
}

// Compare submits one script on every platform (the compare API).
func (c *Client) Compare(ctx context.Context, req *CompareRequest) (*compare.Doc, error) {
	var out compare.Doc
	return &out, c.do(ctx, http.MethodPost, "/compare/", req, &out)
}

// Comparison reads a comparison: its jobs, and its report once they ended
// (tau: the van Rossum time constant in ms, 0 for the default).
func (c *Client) Comparison(ctx context.Context, id string, tau float64) (*compare.Doc, error) {
	var out compare.Doc
	q := ""
	if tau > 0 {
		q = "?tau=" + strconv.FormatFloat(tau, 'g', -1, 64)
	}
	return &out, c.do(ctx, http.MethodGet, "/compare/"+url.PathEscape(id)+q, nil, &out)
}

// ComparisonSpikes reads the spikes of a comparison that is done.
func (c *Client) ComparisonSpikes(ctx context.Context, id string) ([]compare.Spikes, error) {
	var out []compare.Spikes
	return out, c.do(ctx, http.MethodGet, "/compare/"+url.PathEscape(id)+"/spikes", nil, &out)
}

// ComparisonPage reads a comparison's page (HTML, self-contained).
func (c *Client) ComparisonPage(ctx context.Context, id string, tau float64) ([]byte, error) {
	u := c.Server + "/compare/" + url.PathEscape(id) + "/page"
	if tau > 0 {
		u += "?tau=" + strconv.FormatFloat(tau, 'g', -1, 64)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}
