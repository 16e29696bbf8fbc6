package brainscales2

import (
	"context"
	"math"
	"testing"
	"time"
)

func fill(x float64) []float64 {
	xs := make([]float64, numCircuits)
	for i := range xs {
		xs[i] = x
	}
	return xs
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestHardwareReadsWhatTheCircuitsDo holds Hardware's instruments against
// the circuits' model: the CADC reads the resting potential the model
// gives, the MADC shows the synaptic line's decay, and spikes come at the
// rate a leak-over-threshold neuron fires.
func TestHardwareReadsWhatTheCircuitsDo(t *testing.T) {
	h, err := OpenHardware(context.Background(), HardwareOptions{Chip: "hw-test", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	base := map[string][]float64{"leak_v_leak": fill(600), "leak_i_bias": fill(300), "membrane_capacitance_capacitance": fill(63),
		"excitatory_input_i_bias_tau": fill(100), "reset_i_bias": fill(1022), "reset_v_reset": fill(500)}
	if err := h.Configure(base, nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	reads, err := h.RecordCADC("v", 50, 10, 1, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CADC: %v took %v; circuit 0 %v", len(reads), time.Since(t0), reads[:3])
	mean := meanOf(reads)
	// capV(600)-0.35 = 0.35 V: nominal CADC 20 + (0.35-capV(70))*355 = 115
	if math.Abs(mean-115) > 15 {
		t.Errorf("mean CADC read %g, want about 115", mean)
	}
	t0 = time.Now()
	tr, err := h.RecordMADC("exc_synin", 10, 40, []float64{5}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MADC: %d traces of %d samples took %v", len(tr), len(tr[0]), time.Since(t0))
	pre, post := tr[0][100], tr[0][176]
	if !(pre-post > 40) {
		t.Errorf("exc_synin before %g, after the stimulus %g: want a drop of about 85 LSB", pre, post)
	}
	if err := h.Configure(map[string][]float64{"threshold_enable": fill(1), "threshold_v_threshold": fill(250),
		"refractory_period_refractory_time": fill(20)}, nil); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	sp, err := h.SpikeTimes(20, 200)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("spikes: circuit 0 %d in 200 µs; took %v; hardware time %g µs", len(sp[0]), time.Since(t0), h.HardwareTimeUs())
	if len(sp[0]) < 3 {
		t.Errorf("circuit 0 fired %d times", len(sp[0]))
	}
}
