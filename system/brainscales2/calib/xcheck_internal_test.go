package calib

import (
	"context"
	"math"
	"testing"

	"github.com/nmp-platform/nmp/system/brainscales2"
)

// TestResetMethodAgreesWithOffsetMethod: tau_mem calibrated to 2 µs by the
// reset method, measured by the offset method (the leak's multiplication
// as the reset method chose it): both methods see the same time constants.
func TestResetMethodAgreesWithOffsetMethod(t *testing.T) {
	h, err := brainscales2.OpenHardware(context.Background(), brainscales2.HardwareOptions{Chip: "nmp-virtual-hx-1", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	tt := SpikingTarget{Neuron: DefaultNeuronTarget()}
	tt.Neuron.TauMemUs = Values{2}
	r, err := Calibrate(h, tt, SpikingOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	n, err := resume(h, r.CADC, r.Neuron, 5)
	if err != nil {
		t.Fatal(err)
	}
	target := filled(2)
	n.tauStep = filled(CapMemMax)
	if err := n.write(tauMemOver); err != nil {
		t.Fatal(err)
	}
	offset, err := n.measureTauMem(target)
	if err != nil {
		t.Fatal(err)
	}
	m := median(offset)
	t.Logf("tau_mem calibrated to 2 µs by the reset method, measured by the offset method: median %.3f µs, trimmed std %.3f µs", m, trimmedStd(offset))
	if math.Abs(m-2) > 0.1 || trimmedStd(offset) > 0.1 {
		t.Errorf("the offset method sees median %.3f µs, std %.3f µs", m, trimmedStd(offset))
	}
}
