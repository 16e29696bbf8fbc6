package engine

import (
	"math"
	"testing"
)

// PyNN defines ACSource's phase as the phase at start (PyNN's issue 497):
// with phase 90 degrees the current at start is offset + amplitude.
func TestACSourcePhaseAtStart(t *testing.T) {
	c := &currentSource{typ: "ACSource", dt: 0.1, params: map[string]float64{
		"start": 5, "stop": 20, "amplitude": 1, "offset": 0.25, "frequency": 20, "phase": 90}}
	if got := c.value(50); math.Abs(got-1.25) > 1e-12 {
		t.Errorf("current at start = %g, want 1.25", got)
	}
	c.params["phase"] = 0
	if got := c.value(50); math.Abs(got-0.25) > 1e-12 {
		t.Errorf("current at start with phase 0 = %g, want 0.25", got)
	}
	if got := c.value(49); got != 0 {
		t.Errorf("current before start = %g, want 0", got)
	}
}
