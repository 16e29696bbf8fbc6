// Package queue holds the job queue's rules and its background maintenance:
// the platforms and their units, the quotas each kind of access grants, how
// much quota a job holds while it waits, the rescuer that requeues jobs whose
// runner vanished, the cleaner that enforces the storage retention period, and
// the bootstrap of a fresh installation.
package queue

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// Platform names, as the nmpi client spells them.
const (
	SpiNNaker      = "SpiNNaker"
	BrainScaleS    = "BrainScaleS"
	BrainScaleS2   = "BrainScaleS-2"
	BrainScaleSESS = "BrainScaleS-ESS"
	Spikey         = "Spikey"
	TestPlatform   = "TestPlatform"
	Test           = "Test"
	Demo           = "Demo"
	// Storage is the pseudo-platform of temporary storage quotas, in GB.
	Storage = "Storage"
)

// Units are the resource-usage units of each platform, as the reference server uses them.
var Units = map[string]string{
	SpiNNaker:      "core-hours",
	BrainScaleS:    "wafer-hours",
	BrainScaleS2:   "chip-hours",
	BrainScaleSESS: "hours",
	Spikey:         "hours",
	TestPlatform:   "bushels",
	Test:           "litres",
	Demo:           "hours",
	Storage:        "GB",
}

// Platforms lists the platforms jobs can be submitted to, sorted.
func Platforms() []string {
	var out []string
	for p := range Units {
		if p != Storage {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// UnitsMatch tells whether units reported by a provider are the platform's
// (singular and plural spellings, any case).
func UnitsMatch(platform, units string) bool {
	want, ok := Units[platform]
	if !ok {
		return false
	}
	norm := func(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "s") }
	return norm(units) == norm(want)
}

// Access kinds of a resource request.
const (
	AccessTest        = "test"
	AccessPreparatory = "preparatory"
	AccessProject     = "project"
)

// Grants are the quotas given when a resource request of each kind is accepted.
// Test and preparatory access follow the platform guidebook (5000 SpiNNaker
// core-hours, 0.1 BrainScaleS wafer-hours and 1 GB of storage; 500 000
// core-hours, 10 wafer-hours and 10 GB). The guidebook names no figures for the
// other systems; ours follow the reference server's test quotas (1 unit) and
// scale them by 100 for preparatory access. Project access grants what the
// administrator adds, quota by quota.
var Grants = map[string][]store.Quota{
	AccessTest: {
		{Platform: SpiNNaker, Units: "core-hours", Limit: 5000},
		{Platform: BrainScaleS, Units: "wafer-hours", Limit: 0.1},
		{Platform: BrainScaleS2, Units: "chip-hours", Limit: 1},
		{Platform: BrainScaleSESS, Units: "hours", Limit: 1},
		{Platform: Spikey, Units: "hours", Limit: 1},
		{Platform: Demo, Units: "hours", Limit: 1},
		{Platform: Storage, Units: "GB", Limit: 1},
	},
	AccessPreparatory: {
		{Platform: SpiNNaker, Units: "core-hours", Limit: 500000},
		{Platform: BrainScaleS, Units: "wafer-hours", Limit: 10},
		{Platform: BrainScaleS2, Units: "chip-hours", Limit: 100},
		{Platform: BrainScaleSESS, Units: "hours", Limit: 100},
		{Platform: Spikey, Units: "hours", Limit: 100},
		{Platform: Demo, Units: "hours", Limit: 100},
		{Platform: Storage, Units: "GB", Limit: 10},
	},
	AccessProject: nil,
}

// ValidAccess checks an access kind.
func ValidAccess(a string) error {
	if _, ok := Grants[a]; !ok {
		return fmt.Errorf("access: %q is not one of test, preparatory, project", a)
	}
	return nil
}

// Reservations are how much quota a job holds from submission until it ends,
// per platform, so that concurrent submissions cannot together promise more
// than the quota has left. They are estimates of a small job: what the job
// really used is charged when it ends, replacing the hold.
var Reservations = map[string]float64{
	SpiNNaker:      1,     // core-hours: a few cores for a few minutes
	BrainScaleS:    0.001, // wafer-hours: 3.6 s of wafer time
	BrainScaleS2:   0.001, // chip-hours
	BrainScaleSESS: 0.001, // hours
	Spikey:         0.001, // hours
	TestPlatform:   0.001,
	Test:           0.001,
	Demo:           0.001, // hours
}

// Retention is how long temporary storage keeps output files (the guidebook's three months).
const Retention = 90 * 24 * time.Hour
