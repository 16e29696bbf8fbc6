package worker

import (
	"github.com/nmp-platform/nmp/platform"
)

// usage charges what a job used by its platform's usage rule, in the
// platform's units, with the rule's description for provenance.
func usage(p platform.Platform, r *sandboxResult) (value float64, units, rule string) {
	var u platform.Used
	if r != nil {
		u.WallClock, u.CPUTime = r.WallClock, r.CPUTime
	}
	value, rule = p.Usage(u)
	return value, p.Units, rule
}
