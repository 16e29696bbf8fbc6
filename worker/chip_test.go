package worker

import (
	"encoding/json"
	"testing"

	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/provider"
)

// TestChipFromHardwareConfig: the platform's ChipConfig key of a job's
// hardware_config chooses the chip, as a string (Spikey's "STATION") or an
// integer (BrainScaleS's "WAFER_MODULE": 33); anything else leaves the
// worker's chip.
func TestChipFromHardwareConfig(t *testing.T) {
	bss, _ := platform.Default().Lookup("BrainScaleS")
	for cfg, want := range map[string]string{
		`{"WAFER_MODULE": 5}`: "5", `{"WAFER_MODULE": "20"}`: "20", `{"WAFER_MODULE": 2.5}`: "33", `{"WAFER_MODULE": -1}`: "33",
		`{"HICANN": 297}`: "33", `null`: "33", ``: "33", `{"WAFER_MODULE": [1]}`: "33",
	} {
		job := &provider.Job{}
		job.HardwareConfig = json.RawMessage(cfg)
		r := &jobRun{w: &Worker{}, job: job, sys: bss}
		if got := r.chip(); got != want {
			t.Errorf("hardware_config %s: chip %q, want %q", cfg, got, want)
		}
	}
}
