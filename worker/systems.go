package worker

import (
	"encoding/json"
	"math"

	"github.com/nmp-platform/nmp/platform"
)

// usage charges what a job used by its platform's usage rule, in the
// platform's units, with the rule's description for provenance.
//
// What the worker measured (wall clock, CPU time) is filled from the
// sandbox; what the system used (cores, hardware time) from the run reports
// the job's front end wrote ($NMP_JOB_REPORT, runs: the raw lines). Those
// reports are written by the job's own process and can be forged, so they
// may raise the charge but never lower it: a job is charged at least what
// the rule charges from the measured figures alone (for SpiNNaker one core
// for the command's wall clock). docs/worker.md describes that trust model.
func usage(p platform.Platform, r *sandboxResult, runs []json.RawMessage) (value float64, units, rule string) {
	var measured platform.Used
	if r != nil {
		measured.WallClock, measured.CPUTime = r.WallClock, r.CPUTime
	}
	u := measured
	u.Cores, u.HardwareTime = reportedUse(runs)
	value, rule = p.Usage(u)
	if floor, floorRule := p.Usage(measured); !(value >= floor) {
		value, rule = floor, floorRule+" (the run reports would have charged less, so the measured figures alone are charged)"
	}
	return value, p.Units, rule
}

// maxReportedCores and maxReportedMS bound what a report may claim: more
// than a million-core machine or a run of more than a year is not a report
// to trust with a quota.
const (
	maxReportedCores = 1 << 20
	maxReportedMS    = 365 * 24 * 3600 * 1000.0
)

// reportedUse sums what the run reports say the system used: the most cores
// any run reports (runs of one job use the same mapping or a smaller one
// after a reset) and the sum of the runs' hardware time, in seconds.
// Malformed, negative or non-finite figures are ignored.
func reportedUse(runs []json.RawMessage) (cores int, hardwareSeconds float64) {
	for _, line := range runs {
		var run struct {
			Cores          *float64 `json:"cores"`
			HardwareTimeMS *float64 `json:"hardware_time_ms"`
		}
		if json.Unmarshal(line, &run) != nil {
			continue
		}
		if c := run.Cores; c != nil && *c >= 1 && *c <= maxReportedCores && *c == math.Trunc(*c) {
			cores = max(cores, int(*c))
		}
		if h := run.HardwareTimeMS; h != nil && *h > 0 && *h <= maxReportedMS {
			hardwareSeconds += *h / 1000
		}
	}
	return cores, hardwareSeconds
}
