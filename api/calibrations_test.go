package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store/storetest"
)

func calFile(chip string) []byte {
	return []byte(`{"format": "nmp-bss2-calibration", "version": 1, "chip": "` + chip + `"}`)
}

// TestCalibrationFlow: a worker's poll makes its chip known and (with
// CalibrateNewChips) asks for its first calibration; the worker claims it,
// uploads the files and finishes it; it becomes the chip's latest, shown
// in the platform status and served to anyone signed in. A failed one
// keeps the previous latest, leaves no files and is reported. An
// administrator asks for one now; others may not. Leases, names and file
// contents are checked.
func TestCalibrationFlow(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d, func(c *api.Config) { c.CalibrateNewChips = true })
		const chip = "nmp-virtual-hx-3"
		next := map[string]any{"platform": "BrainScaleS-2", "chips": []string{chip}}

		// Bad polls.
		b.want(b.do("POST", "/calibrations/next", "alice", next), 403, "a user polling")
		b.want(b.do("POST", "/calibrations/next", "key:uman", next), 403, "a provider of another platform")
		r := b.want(b.do("POST", "/calibrations/next", "key:uhei", map[string]any{"platform": "BrainScaleS-2", "chips": []string{"../etc"}}), 422, "bad chip")
		if !strings.Contains(r.detail(t), "chips[0]") {
			t.Errorf("bad chip: %s", r.body)
		}
		b.want(b.do("POST", "/calibrations/next", "key:uhei", map[string]any{"platform": "BrainScaleS-2"}), 422, "no chips")

		// The administrator cannot ask for a chip no worker serves yet.
		r = b.want(b.do("POST", "/calibrations", "admin", map[string]any{"chip": chip}), 422, "unknown chip")
		if !strings.Contains(r.detail(t), "no worker serves") {
			t.Errorf("unknown chip: %s", r.body)
		}

		// The first poll: the chip is new, its first calibration is asked for and claimed.
		r = b.want(b.do("POST", "/calibrations/next", "key:uhei", next), 200, "first poll")
		var c1 nmpi.Calibration
		r.json(t, &c1)
		if c1.Chip != chip || c1.Status != "running" || c1.Lease == nil || c1.Lease.ID == "" || r.header.Get(api.LeaseHeader) != c1.Lease.ID || c1.Worker != "uhei" {
			t.Fatalf("claimed %s", r.body)
		}
		b.want(b.do("POST", "/calibrations/next", "key:uhei", next), 404, "nothing more queued")
		lease := []string{api.LeaseHeader, c1.Lease.ID}
		path := "/calibrations/" + itoa(c1.ID)

		// Uploads: lease, name and content checked.
		b.want(b.do("PUT", path+"/files/spiking_cocolist.json", "key:uhei", calFile(chip)), 422, "no lease")
		b.want(b.do("PUT", path+"/files/spiking_cocolist.json", "key:uhei", calFile(chip), api.LeaseHeader, "other"), 409, "wrong lease")
		b.want(b.do("PUT", path+"/files/spiking_cocolist.json", "key:uman", calFile(chip), lease...), 403, "other provider")
		b.want(b.do("PUT", path+"/files/..%2Fx_cocolist.json", "key:uhei", calFile(chip), lease...), 404, "a path")
		b.want(b.do("PUT", path+"/files/x%20y_cocolist.json", "key:uhei", calFile(chip), lease...), 422, "bad name")
		b.want(b.do("PUT", path+"/files/notes.txt", "key:uhei", []byte("x"), lease...), 422, "not a calibration file name")
		r = b.want(b.do("PUT", path+"/files/spiking_cocolist.json", "key:uhei", calFile("nmp-virtual-hx-4"), lease...), 422, "another chip's file")
		if !strings.Contains(r.detail(t), "nmp-virtual-hx-4") {
			t.Errorf("another chip's file: %s", r.body)
		}
		b.want(b.do("PUT", path+"/files/spiking_cocolist.pbin", "key:uhei", []byte("garbage"), lease...), 422, "not a binary calibration")
		b.want(b.do("PUT", path+"/files/spiking_cocolist.json", "key:uhei", calFile(chip), lease...), 200, "upload json")
		// Finishing checks the files named were uploaded, with a binary one.
		b.want(b.do("PUT", path, "key:uhei", map[string]any{"status": "finished", "files": []string{"spiking_cocolist.json"}}, lease...), 422, "no binary")
		b.want(b.do("PUT", path, "key:uhei", map[string]any{"status": "finished", "files": []string{"spiking_cocolist.json", "spiking_cocolist.pbin"}}, lease...), 422, "pbin not uploaded")
		b.want(b.do("PUT", path+"/files/spiking_cocolist.pbin", "key:uhei", []byte("NMPCAL\x00\x01rest"), lease...), 200, "upload pbin")
		b.want(b.do("PUT", path, "key:uhei", map[string]any{"status": "done"}, lease...), 422, "bad status")
		r = b.want(b.do("PUT", path, "key:uhei", map[string]any{"status": "finished", "files": []string{"spiking_cocolist.json", "spiking_cocolist.pbin"},
			"summary": map[string]any{"presets": map[string]any{"spiking": map[string]any{"failed_neurons": 2}}}}, lease...), 200, "finish")
		var done nmpi.Calibration
		r.json(t, &done)
		if done.Status != "finished" || !done.Latest || len(done.Files) != 2 || done.Files[1].Size != 12 || len(done.Files[1].Hash) != 64 {
			t.Fatalf("finished %s", r.body)
		}
		b.want(b.do("PUT", path, "key:uhei", map[string]any{"status": "failed", "error": "x"}, lease...), 409, "finished twice")

		// Served to users and providers; anonymous callers are refused.
		r = b.want(b.do("GET", path+"/files/spiking_cocolist.pbin", "bob", nil), 200, "download")
		if string(r.body) != "NMPCAL\x00\x01rest" {
			t.Errorf("downloaded %q", r.body)
		}
		b.want(b.do("GET", path+"/files/spiking_cocolist.pbin", "key:uhei", nil), 200, "provider download")
		b.want(b.do("GET", path+"/files/spiking_cocolist.pbin", "", nil), 401, "anonymous download")
		b.want(b.do("GET", path+"/files/spiking2_cocolist.pbin", "bob", nil), 404, "missing file")

		// An administrator asks for one now; a second ask gives the same one.
		b.want(b.do("POST", "/calibrations", "alice", map[string]any{"chip": chip}), 403, "not an administrator")
		r = b.want(b.do("POST", "/calibrations", "admin", map[string]any{"chip": chip}), 201, "ask")
		var c2 nmpi.Calibration
		r.json(t, &c2)
		if c2.Status != "queued" || c2.RequestedBy != "admin" || c2.Latest {
			t.Fatalf("asked %s", r.body)
		}
		r = b.want(b.do("POST", "/calibrations", "admin", map[string]any{"chip": chip}), 200, "ask again")
		var again nmpi.Calibration
		r.json(t, &again)
		if again.ID != c2.ID {
			t.Errorf("asked again: %d, want %d", again.ID, c2.ID)
		}

		// It fails: nothing of it stays, the previous one stays the latest.
		r = b.want(b.do("POST", "/calibrations/next", "key:uhei", next), 200, "claim the second")
		var c2r nmpi.Calibration
		r.json(t, &c2r)
		lease2 := []string{api.LeaseHeader, c2r.Lease.ID}
		p2 := "/calibrations/" + itoa(c2.ID)
		b.want(b.do("PUT", p2+"/files/spiking_cocolist.json", "key:uhei", calFile(chip), lease2...), 200, "upload before failing")
		b.want(b.do("PUT", p2, "key:uhei", map[string]any{"status": "failed"}, lease2...), 422, "failure without a reason")
		b.want(b.do("PUT", p2, "key:uhei", map[string]any{"status": "failed", "error": "CADC: ramp offset at its limit"}, lease2...), 200, "fail")
		b.want(b.do("GET", p2+"/files/spiking_cocolist.json", "bob", nil), 404, "a failed calibration's file")

		var list []nmpi.Calibration
		b.want(b.do("GET", "/calibrations?chip="+chip, "bob", nil), 200, "list").json(t, &list)
		if len(list) != 2 || list[0].ID != c2.ID || list[0].Status != "failed" || list[0].Error != "CADC: ramp offset at its limit" || list[0].Latest ||
			list[1].ID != c1.ID || !list[1].Latest {
			t.Fatalf("list %+v", list)
		}
		b.want(b.do("GET", "/calibrations?status=done", "bob", nil), 422, "bad status filter")
		b.want(b.do("GET", "/calibrations?limit=5000", "bob", nil), 422, "bad limit")
		b.want(b.do("GET", "/calibrations", "", nil), 401, "anonymous list")

		// The platform status shows the latest and the failure after it.
		var about nmpi.About
		b.want(b.do("GET", "/", "", nil), 200, "about").json(t, &about)
		cs := about.Platforms["BrainScaleS-2"].Calibrations
		if len(cs) != 1 || cs[0].Chip != chip || cs[0].Latest == nil || cs[0].Latest.ID != c1.ID || cs[0].LastFailure == nil || cs[0].LastFailure.ID != c2.ID || cs[0].Pending != nil {
			t.Fatalf("platform status %+v", cs)
		}
		var status struct {
			Platforms map[string]nmpi.PlatformStatus
		}
		b.want(b.do("GET", "/status", "", nil), 200, "status").json(t, &status)
		if cs := status.Platforms["BrainScaleS-2"].Calibrations; len(cs) != 1 || cs[0].Latest.ID != c1.ID {
			t.Fatalf("status %+v", status.Platforms)
		}
	})
}

// TestCalibrationLeaseExpiry: a worker that stops during a calibration
// loses it when its lease runs out; another takes it; after
// queue.CalibrationAttempts tries it fails.
func TestCalibrationLeaseExpiry(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		now := time.Date(2025, 3, 14, 3, 0, 0, 0, time.UTC)
		b := setup(t, d, func(c *api.Config) {
			c.CalibrateNewChips, c.CalibrationLease = true, time.Minute
			c.Now = func() time.Time { return now }
		})
		next := map[string]any{"platform": "BrainScaleS-2", "chips": []string{"hx"}}
		var first nmpi.Calibration
		b.want(b.do("POST", "/calibrations/next", "key:uhei", next), 200, "claim").json(t, &first)
		for i := 2; i <= queue.CalibrationAttempts; i++ {
			now = now.Add(2 * time.Minute)
			var c nmpi.Calibration
			b.want(b.do("POST", "/calibrations/next", "key:uhei", next), 200, "claim again").json(t, &c)
			if c.ID != first.ID || c.Attempts != i {
				t.Fatalf("attempt %d: %+v", i, c)
			}
			// The old lease is lost.
			b.want(b.do("PUT", "/calibrations/"+itoa(c.ID), "key:uhei", map[string]any{"status": "failed", "error": "x"}, api.LeaseHeader, first.Lease.ID), 409, "old lease")
		}
		now = now.Add(2 * time.Minute)
		b.want(b.do("POST", "/calibrations/next", "key:uhei", next), 404, "given up")
		var c nmpi.Calibration
		b.want(b.do("GET", "/calibrations/"+itoa(first.ID), "bob", nil), 200, "get").json(t, &c)
		if c.Status != "failed" || !strings.Contains(c.Error, "stopped before finishing") {
			t.Fatalf("gave up: %+v", c)
		}
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
