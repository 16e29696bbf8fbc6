package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nmp-platform/nmp/internal/apiclient"
	"github.com/nmp-platform/nmp/nmpi"
)

// ErrNoCalibration: no calibration of the chips is asked for.
var ErrNoCalibration = errors.New("no queued calibration")

// Calibration is a calibration of an emulated chip as the server sends it.
type Calibration = nmpi.Calibration

// CalibrationNext says which chips of the platform the worker serves (the
// server schedules their calibrations) and claims the oldest calibration
// asked for of one of them. ErrNoCalibration when there is none.
func (c *Client) CalibrationNext(ctx context.Context, platform string, chips []string) (*Calibration, error) {
	var cal Calibration
	err := c.do(ctx, &apiclient.Request{Method: http.MethodPost, Path: "/calibrations/next",
		JSON: map[string]any{"platform": platform, "chips": chips}}, "", &cal)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, ErrNoCalibration
	}
	if err != nil {
		return nil, err
	}
	return &cal, nil
}

func calLease(cal *Calibration) string {
	if cal.Lease == nil {
		return ""
	}
	return cal.Lease.ID
}

// CalibrationUpload stores one file of a claimed calibration.
func (c *Client) CalibrationUpload(ctx context.Context, cal *Calibration, name string, data []byte) error {
	return c.do(ctx, &apiclient.Request{Method: http.MethodPut, Path: fmt.Sprintf("/calibrations/%d/files/%s", cal.ID, url.PathEscape(name)),
		Body: bytes.NewReader(data), ContentType: "application/octet-stream"}, calLease(cal), nil)
}

// CalibrationFinish ends a claimed calibration: nmpi.CalibrationFinished
// with the files uploaded, or nmpi.CalibrationFailed with the reason.
func (c *Client) CalibrationFinish(ctx context.Context, cal *Calibration, status, reason string, summary json.RawMessage, files []string) (*Calibration, error) {
	body := map[string]any{"status": status, "files": files}
	if reason != "" {
		body["error"] = reason
	}
	if len(summary) > 0 {
		body["summary"] = summary
	}
	var out Calibration
	if err := c.do(ctx, &apiclient.Request{Method: http.MethodPut, Path: fmt.Sprintf("/calibrations/%d", cal.ID), JSON: body}, calLease(cal), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LatestCalibration returns the chip's latest calibration (ErrNoCalibration when it has none).
func (c *Client) LatestCalibration(ctx context.Context, chip string) (*Calibration, error) {
	var cs []Calibration
	q := url.Values{"chip": {chip}, "status": {nmpi.CalibrationFinished}, "limit": {strconv.Itoa(1)}}
	if err := c.do(ctx, &apiclient.Request{Method: http.MethodGet, Path: "/calibrations?" + q.Encode()}, "", &cs); err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("chip %s: %w", chip, ErrNoCalibration)
	}
	return &cs[0], nil
}

// CalibrationFile reads a file of a finished calibration.
func (c *Client) CalibrationFile(ctx context.Context, id int64, name string) ([]byte, error) {
	var s string
	if err := c.do(ctx, &apiclient.Request{Method: http.MethodGet, Path: fmt.Sprintf("/calibrations/%d/files/%s", id, url.PathEscape(name))}, "", &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}
