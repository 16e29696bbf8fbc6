package calib_test

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/system/brainscales2/calib"
)

// cpuSeconds is the process's CPU time so far (user and system): what a
// benchmark needs of the machine, whatever else runs on it.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// benchCalibrate runs full-chip spiking calibrations to t and reports, per
// calibration, the process's CPU time (cpu-s/op: not distorted by other
// loads; with GOMAXPROCS=1 one core's), the wall time (wall-s/op) and the
// time the measurements would take on the real chip (chip-s/op).
func benchCalibrate(b *testing.B, t calib.SpikingTarget) {
	cpu0, wall0 := cpuSeconds(b), time.Now()
	var chip float64
	for i := 0; i < b.N; i++ {
		h := open(b, "nmp-virtual-hx-0", uint64(i+1))
		r, err := calib.Calibrate(h, t, calib.SpikingOptions{Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		chip += r.HardwareSeconds
	}
	b.ReportMetric((cpuSeconds(b)-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(time.Since(wall0).Seconds()/float64(b.N), "wall-s/op")
	b.ReportMetric(chip/float64(b.N), "chip-s/op")
}

// BenchmarkCalibrate is a full-chip spiking calibration with calix's
// default target (512 neurons: CADC, neurons, CADC again,
// refine_potentials) on the emulated chip. calix on hardware takes about
// five minutes; run with GOMAXPROCS=1 for one core.
func BenchmarkCalibrate(b *testing.B) { benchCalibrate(b, calib.SpikingTarget{}) }

// BenchmarkCalibrateCOBA adds the COBA calibration of both inputs (the
// seed's reversal potentials 300 and 30; calix then skips the refinement).
func BenchmarkCalibrateCOBA(b *testing.B) {
	t := calib.SpikingTarget{Neuron: calib.DefaultNeuronTarget()}
	t.Neuron.ECobaReversalExc, t.Neuron.ECobaReversalInh = calib.Values{300}, calib.Values{30}
	benchCalibrate(b, t)
}

// BenchmarkCalibrateShortTauMem calibrates tau_mem to 1 µs, by the reset
// method.
func BenchmarkCalibrateShortTauMem(b *testing.B) {
	t := calib.SpikingTarget{Neuron: calib.DefaultNeuronTarget()}
	t.Neuron.TauMemUs = calib.Values{1}
	benchCalibrate(b, t)
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
