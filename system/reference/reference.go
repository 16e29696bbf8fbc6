// Package reference is the ideal reference system: PyNN's standard models
// run as they are written, with no hardware constraints, the yardstick the
// hardware emulations are compared against.
package reference

import (
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// System is the reference system.
type System struct{}

func init() { system.Register(System{}) }

// Name is "reference".
func (System) Name() string { return "reference" }

// Catalog is PyNN's standard library.
func (System) Catalog() *network.Catalog { return network.Standard }

// Prepare validates d and runs it as it is.
func (System) Prepare(d *network.Description) (*system.Plan, error) {
	if err := network.Validate(d, network.Standard, network.Limits{}); err != nil {
		return nil, err
	}
	return &system.Plan{Description: d, Validated: true}, nil
}
