// Package queue holds the job queue's rules and its background maintenance:
// the quotas each kind of access grants (from the rows of the platform
// table, package platform), the rescuer that requeues jobs whose runner
// vanished, the cleaner that enforces the storage retention period, and the
// bootstrap of a fresh installation.
package queue

import (
	"fmt"
	"time"

	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/store"
)

// Access kinds of a resource request.
const (
	AccessTest        = "test"
	AccessPreparatory = "preparatory"
	AccessProject     = "project"
)

// Grant is the quotas an accepted resource request of an access kind gives:
// for test and preparatory access, each platform's TestGrant or
// PreparatoryGrant (in table order) and the storage grant; project access
// grants what the administrator adds, quota by quota (nil).
func Grant(t platform.Table, access string) []store.Quota {
	var limit func(platform.Platform) float64
	switch access {
	case AccessTest:
		limit = func(p platform.Platform) float64 { return p.TestGrant }
	case AccessPreparatory:
		limit = func(p platform.Platform) float64 { return p.PreparatoryGrant }
	default:
		return nil
	}
	var out []store.Quota
	for _, p := range t.OrDefault() {
		if l := limit(p); l > 0 {
			out = append(out, store.Quota{Platform: p.Name, Units: p.Units, Limit: l})
		}
	}
	return append(out, store.Quota{Platform: platform.Storage, Units: platform.StorageUnits, Limit: StorageGrant[access]})
}

// StorageGrant is the temporary storage, in GB, that test and preparatory
// access grant (the platform guidebook's 1 GB and 10 GB).
var StorageGrant = map[string]float64{AccessTest: 1, AccessPreparatory: 10}

// ValidAccess checks an access kind.
func ValidAccess(a string) error {
	switch a {
	case AccessTest, AccessPreparatory, AccessProject:
		return nil
	}
	return fmt.Errorf("access: %q is not one of test, preparatory, project", a)
}

// Retention is how long temporary storage keeps output files (the guidebook's three months).
const Retention = 90 * 24 * time.Hour
