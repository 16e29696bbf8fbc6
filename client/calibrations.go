package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nmp-platform/nmp/nmpi"
)

// Calibration is a calibration of an emulated chip (nmp's addition).
type Calibration = nmpi.Calibration

// CalibrationQuery selects calibrations; zero fields select all.
type CalibrationQuery struct {
	Chip   []string
	Status []string
	Limit  int
}

// Calibrations lists calibrations, newest first.
func (c *Client) Calibrations(ctx context.Context, q CalibrationQuery) ([]Calibration, error) {
	v := url.Values{}
	for _, x := range q.Chip {
		v.Add("chip", x)
	}
	for _, x := range q.Status {
		v.Add("status", x)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out []Calibration
	return out, c.do(ctx, http.MethodGet, "/calibrations?"+v.Encode(), nil, "", &out)
}

// Calibration reads one calibration.
func (c *Client) Calibration(ctx context.Context, id int64) (*Calibration, error) {
	var out Calibration
	return &out, c.do(ctx, http.MethodGet, fmt.Sprintf("/calibrations/%d", id), nil, "", &out)
}

// RequestCalibration asks for a calibration of the chip now (administrators).
// When one is queued or running already, that one is returned.
func (c *Client) RequestCalibration(ctx context.Context, chip, reason string) (*Calibration, error) {
	var out Calibration
	return &out, c.jsonDo(ctx, http.MethodPost, "/calibrations", map[string]string{"chip": chip, "reason": reason}, &out)
}

// CalibrationFile reads a file of a finished calibration.
func (c *Client) CalibrationFile(ctx context.Context, id int64, name string) ([]byte, error) {
	var s string
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/calibrations/%d/files/%s", id, url.PathEscape(name)), nil, "", &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}
