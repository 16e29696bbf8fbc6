package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// TestPlatformsShowCalibrations: the Platforms page says "none recorded"
// for a chip platform without calibrations, then each chip's latest
// calibration with its failed neurons, and a failure after it.
func TestPlatformsShowCalibrations(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signIn("admin", "admin password")
	_, page := b.get("/app/platforms")
	if !strings.Contains(page, "none recorded") {
		t.Fatalf("no calibration yet:\n%s", page)
	}
	// A worker serving the chip (the provider side of the API) makes one and fails one.
	api := func(method, path string, body string, lease string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, s.url+path, bytes.NewReader([]byte(body)))
		req.Header.Set("x-api-key", s.key)
		req.Header.Set("Content-Type", "application/json")
		if lease != "" {
			req.Header.Set("X-Nmp-Lease", lease)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
		return resp
	}
	const chip = "nmp-virtual-hx-0"
	if err := s.st.CalibrationChipSeen(ctx, &store.CalibrationChip{Chip: chip, Platform: "BrainScaleS-2", Provider: "local", LastSeen: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"nightly:1", "nightly:2"} {
		if _, err := s.st.CalibrationInsert(ctx, &store.CalibrationInsertParams{Calibration: store.Calibration{Chip: chip, Platform: "BrainScaleS-2", Key: key, Reason: "nightly"}}); err != nil {
			t.Fatal(err)
		}
		resp := api("POST", "/calibrations/next", `{"platform": "BrainScaleS-2", "chips": ["`+chip+`"]}`, "")
		lease := resp.Header.Get("X-Nmp-Lease")
		id := []string{"1", "2"}[i]
		if i == 0 {
			api("PUT", "/calibrations/1/files/spiking_cocolist.pbin", "NMPCAL\x00", lease)
			api("PUT", "/calibrations/1", `{"status": "finished", "files": ["spiking_cocolist.pbin"], "summary": {"presets": {"spiking": {"failed_neurons": 2}, "spiking2": {"failed_neurons": 6}}}}`, lease)
		} else {
			api("PUT", "/calibrations/"+id, `{"status": "failed", "error": "CADC: <ramp> offset at its limit"}`, lease)
		}
	}
	_, page = b.get("/app/platforms")
	for _, want := range []string{`data-chip="nmp-virtual-hx-0"`, "#1, ", "failed neurons: spiking 2, spiking2 6", "last run failed", "#2 failed", "CADC: &lt;ramp&gt; offset at its limit", "keeps its previous calibration"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Platforms page lacks %q:\n%s", want, page)
		}
	}
}
