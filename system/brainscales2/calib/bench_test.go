package calib_test

import (
	"bytes"
	"testing"

	"github.com/nmp-platform/nmp/system/brainscales2/calib"
)

// BenchmarkCalibrate is a full-chip spiking calibration (512 neurons: CADC,
// neurons, CADC again, refine_potentials) on the emulated chip. calix on
// hardware takes about five minutes; run with GOMAXPROCS=1 for one core.
func BenchmarkCalibrate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		h := open(b, "nmp-virtual-hx-0", uint64(i+1))
		r, err := calib.Calibrate(h, calib.SpikingTarget{}, calib.SpikingOptions{Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.HardwareSeconds, "chip-s/op")
	}
}

// BenchmarkReadCalibration reads a calibration file, as a cached
// calibration is taken.
func BenchmarkReadCalibration(b *testing.B) {
	h := open(b, "nmp-virtual-hx-0", 1)
	r, err := calib.Calibrate(h, calib.SpikingTarget{}, calib.SpikingOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := calib.WriteBinary(&buf, r); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := calib.Read(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
