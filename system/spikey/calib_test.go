package spikey

import (
	"math"
	"os"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/system/spikey/calib"
)

func sd(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v / float64(len(xs)))
}

func rms(xs []float64) float64 {
	v := 0.0
	for _, x := range xs {
		v += x * x
	}
	return math.Sqrt(v / float64(len(xs)))
}

// TestCalibration runs the built-in calibrations (package calib's
// experiments, which see the chip only through calib.Chip) on two
// stations and holds what they measured against the chips' hidden
// fixed-pattern noise: each spread is printed before and after
// calibration, and each must shrink.
func TestCalibration(t *testing.T) {
	for _, station := range []string{"station666", "station500"} {
		t0 := time.Now()
		cal, err := Calibrate(station)
		if err != nil {
			t.Fatal(err)
		}
		c := chipOf(station)
		t.Logf("%s calibrated in %.2f s wall (%d experiments)", station, time.Since(t0).Seconds(), cal.Runs)
		check := func(what string, before, after []float64, factor float64) {
			t.Helper()
			b, a := rms(before), rms(after)
			t.Logf("  %-42s before %8.4f  after %8.4f", what, b, a)
			if !(a < b/factor) {
				t.Errorf("%s %s: calibration left %g of %g (wanted less than 1/%g)", station, what, a, b, factor)
			}
		}
		// ADC: the error of a reading at -65 mV
		v := -65.0
		check("ADC error at -65 mV (mV)", []float64{(c.adc(v) - (v-adcZero)*adcPerMV) / adcPerMV}, []float64{cal.Volts(c.adc(v)) - v}, 5)
		// parameter cells: the output's error when a voltage is wanted
		var cb, ca []float64
		for b := 0; b < numBlocks; b++ {
			for par := 0; par < 2; par++ {
				for cell := calib.VRest; cell <= calib.ERevI; cell++ {
					for _, want := range []float64{-80, -55} {
						cb = append(cb, c.cellOut(b, par, cell, want)-want)
						ca = append(ca, c.cellOut(b, par, cell, cal.Program(b, par, cell, want))-want)
					}
				}
			}
		}
		check("parameter cells' error (mV)", cb, ca, 4)
		// output pins: a membrane at -65 mV as read out
		var pb, pa []float64
		for p := 0; p < numOutputPins; p++ {
			out := cal.Volts(c.adc(v*c.pinGain[p] + c.pinOff[p]))
			pb, pa = append(pb, out-v), append(pa, cal.Membrane(p, out)-v)
		}
		check("output pins' error at -65 mV (mV)", pb, pa, 4)
		// leak: the relative error of g_leak = 20 nS
		var lb, la []float64
		for h := 0; h < numNeurons; h++ {
			lb, la = append(lb, c.leak[h]-1), append(la, c.leak[h]*cal.GLeak(h, 20)/20-1)
		}
		check("leak's relative error at 20 nS", lb, la, 4)
		// thresholds: the neuron's threshold against the wanted -55 mV
		var tb, ta []float64
		for h := 0; h < numNeurons; h++ {
			b, par := h/neuronsPerBlock, h%2
			raw := c.cellOut(b, par, calib.VThresh, -55) + c.thresh[h] + 55
			prog := c.cellOut(b, par, calib.VThresh, cal.Program(b, par, calib.VThresh, -55)) + c.thresh[h] + 55
			tb, ta = append(tb, raw), append(ta, prog-cal.Thresh[h])
		}
		check("thresholds' error (mV)", tb, ta, 4)
		// drivers: the spread of their strengths (relative)
		var db, da []float64
		for b := 0; b < numBlocks; b++ {
			for r := 0; r < driversPerBlock; r++ {
				db = append(db, c.driver[b][r])
				da = append(da, c.driver[b][r]*cal.Drivers[b*driversPerBlock+r])
			}
		}
		t.Logf("  %-42s before %8.4f  after %8.4f", "drivers' relative SD", sd(db)/mean(db), sd(da)/mean(da))
		if !(sd(da)/mean(da) < sd(db)/mean(db)/2.5) {
			t.Errorf("%s: the drivers' spread %g was not reduced enough (%g before)", station, sd(da)/mean(da), sd(db)/mean(db))
		}
	}
}

func mean(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	return m / float64(len(xs))
}

// TestMain keeps the calibrations the tests make out of the user's cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spikey-calib-")
	if err != nil {
		panic(err)
	}
	os.Setenv(CalibDirEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
