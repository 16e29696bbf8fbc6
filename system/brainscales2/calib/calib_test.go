package calib_test

import (
	"context"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/system/brainscales2"
	"github.com/nmp-platform/nmp/system/brainscales2/calib"
)

func open(t testing.TB, chip string, seed uint64) *brainscales2.Hardware {
	t.Helper()
	h, err := brainscales2.OpenHardware(context.Background(), brainscales2.HardwareOptions{Chip: chip, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestExplore(t *testing.T) {
	h := open(t, "nmp-virtual-hx-0", 1)
	t0 := time.Now()
	r, err := calib.Calibrate(h, calib.SpikingTarget{}, calib.SpikingOptions{Seed: 1, Progress: func(s string) { t.Logf("%.3f %s", time.Since(t0).Seconds(), s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("took %.2f s, hardware %.1f s; cadc %+v %+v", r.Seconds, r.HardwareSeconds, r.CADC.Before, r.CADC.After)
	for _, s := range r.Neuron.Steps {
		t.Logf("step %s %.3f", s.Name, s.Seconds)
	}
	t.Logf("failed %v", r.Neuron.Failed)
	res, err := calib.Evaluate(h, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		t.Logf("%+v", x)
	}
}
