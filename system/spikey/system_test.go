package spikey

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// net is a small builder of descriptions for the chip.
type net struct {
	d *network.Description
}

func newNet(seed uint64, opts map[string]any) *net {
	raw, _ := json.Marshal(opts)
	return &net{d: &network.Description{Format: "nmp-network", Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed, Threads: 1},
		System:     &network.Target{Name: "spikey", Options: raw}}}
}

func (n *net) neurons(size int, params map[string]network.Value) int {
	n.d.Populations = append(n.d.Populations, network.Population{Size: size, CellType: cellName, Parameters: params})
	return len(n.d.Populations) - 1
}

func (n *net) spikes(times ...[]float64) int {
	n.d.Populations = append(n.d.Populations, network.Population{Size: len(times), CellType: sourceArray,
		Parameters: map[string]network.Value{"spike_times": network.Ragged(times)}})
	return len(n.d.Populations) - 1
}

func (n *net) poisson(size int, rate float64) int {
	n.d.Populations = append(n.d.Populations, network.Population{Size: size, CellType: sourcePois,
		Parameters: map[string]network.Value{"rate": network.Scalar(rate)}})
	return len(n.d.Populations) - 1
}

// connect adds an all-to-all projection with weight w (µS).
func (n *net) connect(pre, post int, w float64, receptor string, syn network.Synapse) int {
	np, nq := n.d.Populations[pre].Size, n.d.Populations[post].Size
	var a, b []int64
	for i := 0; i < np; i++ {
		for j := 0; j < nq; j++ {
			a, b = append(a, int64(i)), append(b, int64(j))
		}
	}
	if syn.Type == "" {
		syn.Type = staticSyn
	}
	n.d.Projections = append(n.d.Projections, network.Projection{Pre: network.Selection{{Population: pre}}, Post: network.Selection{{Population: post}},
		ReceptorType: receptor, Synapse: syn,
		Connections: &network.Connections{Pre: network.Ints(a), Post: network.Ints(b), Parameters: map[string]network.Value{"weight": network.Scalar(w)}}})
	return len(n.d.Projections) - 1
}

func (n *net) record(pop int, vars ...string) {
	n.d.Recordings = append(n.d.Recordings, network.Recording{Selection: network.Selection{{Population: pop}}, Variables: vars})
}

func (n *net) recordOne(pop, idx int) {
	n.d.Recordings = append(n.d.Recordings, network.Recording{Selection: network.Selection{{Population: pop, Indices: ptr(network.Ints([]int64{int64(idx)}))}}, Variables: []string{"v"}})
}

func ptr[T any](x T) *T { return &x }

// resolved returns the description as the Go side reads it from JSON.
func (n *net) resolved(t *testing.T) *network.Description {
	t.Helper()
	js, err := json.Marshal(n.d)
	if err != nil {
		t.Fatal(err)
	}
	d, err := network.DecodeJSON(js, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// run builds and runs the description for ms and returns the run.
func (n *net) run(t *testing.T, ms float64) (*system.Run, *system.Plan) {
	t.Helper()
	r, err := system.NewRun(context.Background(), System{}, n.resolved(t), system.RunOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(context.Background(), &network.Action{Run: &ms}); err != nil {
		t.Fatal(err)
	}
	return r, r.Plan()
}

func (n *net) prepareErr(t *testing.T) string {
	t.Helper()
	_, err := System{}.Prepare(n.resolved(t))
	if err == nil {
		t.Fatal("Prepare accepted what the chip cannot do")
	}
	return err.Error()
}

func spikeCount(r *system.Run, pop int) int {
	segs, _ := r.Data(false)
	return len(segs[len(segs)-1].Spikes[pop].IDs)
}

func TestLimits(t *testing.T) {
	// 385 neurons
	n := newNet(1, nil)
	n.neurons(200, nil)
	n.neurons(185, nil)
	if e := n.prepareErr(t); !strings.Contains(e, "Network is larger than chip size") || !strings.Contains(e, "385") {
		t.Errorf("385 neurons: %s", e)
	}
	// 16 LSB
	n = newNet(1, nil)
	post := n.neurons(1, nil)
	src := n.spikes([]float64{1})
	n.connect(src, post, 16*lsbExcCalib, "excitatory", network.Synapse{})
	n.connect(src, n.neurons(1, nil), 100*lsbExcCalib, "excitatory", network.Synapse{})
	_, plan16 := n.run(t, 1)
	// clipped to 15 LSB, as PyNN 0.6's discretizeWeight does, with a warning per projection
	if syn := plan16.Info["synapses"].([][4]int); len(syn) != 2 || syn[0][3] != 15 || syn[1][3] != 15 {
		t.Errorf("16 and 100 LSB became %v; want both clipped to 15", syn)
	}
	if w := fmt.Sprint(plan16.Info["warnings"]); strings.Count(w, "were clipped to 15 LSB") != 2 || !strings.Contains(w, "projection") {
		t.Errorf("16 and 100 LSB: warnings %s; want one clipping warning per projection", w)
	}
	// exactly 15 LSB is fine
	n = newNet(1, nil)
	post = n.neurons(1, nil)
	src = n.spikes([]float64{1})
	n.connect(src, post, 15*lsbExcCalib, "excitatory", network.Synapse{})
	_, plan := n.run(t, 1)
	if syn := plan.Info["synapses"].([][4]int); syn[0][3] != 15 {
		t.Errorf("15 LSB became %v", syn)
	}
	// two membranes
	n = newNet(1, nil)
	p := n.neurons(2, nil)
	n.recordOne(p, 0)
	n.recordOne(p, 1)
	if e := n.prepareErr(t); !strings.Contains(e, "membrane of one neuron") {
		t.Errorf("two membranes: %s", e)
	}
	// mixed STP
	n = newNet(1, nil)
	post = n.neurons(1, nil)
	src = n.spikes([]float64{1})
	n.connect(src, post, lsbExcCalib, "excitatory", network.Synapse{Type: tmSyn, Parameters: map[string]network.Value{"U": network.Scalar(0.5), "tau_rec": network.Scalar(100), "tau_facil": network.Scalar(50)}})
	if e := n.prepareErr(t); !strings.Contains(e, "only facilitation OR depression") {
		t.Errorf("mixed STP: %s", e)
	}
	// multiplicative STDP
	n = newNet(1, nil)
	post = n.neurons(1, nil)
	src = n.spikes([]float64{1})
	n.connect(src, post, lsbExcCalib, "excitatory", network.Synapse{Type: stdpSyn,
		TimingDependence: &network.Component{Type: pairRule}, WeightDependence: &network.Component{Type: "MultiplicativeWeightDependence"}})
	if e := n.prepareErr(t); !strings.Contains(e, "not available") {
		t.Errorf("multiplicative: %s", e)
	}
	// 257 external inputs
	n = newNet(1, nil)
	n.neurons(1, nil)
	n.poisson(257, 1)
	if e := n.prepareErr(t); !strings.Contains(e, "256 external") {
		t.Errorf("257 inputs: %s", e)
	}
	// an external input and a neuron on one driver: neuron 191 feeds
	// driver 191, and external input 64 takes driver 255-64 = 191.
	n = newNet(1, nil)
	all := n.neurons(192, nil)
	ext := n.poisson(65, 1)
	n.d.Projections = append(n.d.Projections, network.Projection{Pre: network.Selection{{Population: ext}}, Post: network.Selection{{Population: all}}, ReceptorType: "excitatory",
		Synapse: network.Synapse{Type: staticSyn}, Connections: &network.Connections{Pre: network.Ints([]int64{64}), Post: network.Ints([]int64{0}), Parameters: map[string]network.Value{"weight": network.Scalar(0.001)}}})
	n.d.Projections = append(n.d.Projections, network.Projection{Pre: network.Selection{{Population: all}}, Post: network.Selection{{Population: all}}, ReceptorType: "excitatory",
		Synapse: network.Synapse{Type: staticSyn}, Connections: &network.Connections{Pre: network.Ints([]int64{191}), Post: network.Ints([]int64{0}), Parameters: map[string]network.Value{"weight": network.Scalar(0.001)}}})
	if e := n.prepareErr(t); !strings.Contains(e, "line driver 191 of block 0") {
		t.Errorf("driver conflict: %s", e)
	}
	// a bad station
	n = newNet(1, map[string]any{"station": "lab 5"})
	n.neurons(1, nil)
	if e := n.prepareErr(t); !strings.Contains(e, "system.options.station") {
		t.Errorf("station: %s", e)
	}
}

// TestDriverTable holds the placement to the guidebook's assignment table.
func TestDriverTable(t *testing.T) {
	for _, c := range []struct{ src, blk, row int }{
		{0, 0, 0}, {193, 0, 0}, {1, 0, 1}, {192, 0, 1}, {2, 0, 2}, {195, 0, 2}, {190, 0, 190}, {383, 0, 190}, {191, 0, 191}, {382, 0, 191},
		{192, 1, 0}, {1, 1, 0}, {193, 1, 1}, {0, 1, 1}, {382, 1, 190}, {191, 1, 190}, {383, 1, 191}, {190, 1, 191},
	} {
		if got := driverOf(c.src, c.blk); got != c.row {
			t.Errorf("neuron %d to block %d: driver %d, want %d", c.src, c.blk, got, c.row)
		}
	}
	if externalDriver(0) != 255 || externalDriver(63) != 192 {
		t.Error("external inputs are allocated from the top")
	}
	// mappingOffset moves the first neuron.
	n := newNet(1, map[string]any{"mapping_offset": 42})
	p := n.neurons(2, nil)
	_, plan := n.run(t, 1)
	hw := plan.Info["populations"].([]map[string]any)[0]["hardware_neurons"].([]int)
	if hw[0] != 42 || hw[1] != 43 || p != 0 {
		t.Errorf("mapping offset 42: %v", hw)
	}
}

// TestStochasticRounding: weights between steps round up with the
// probability of their fraction, so that the mean is kept.
func TestStochasticRounding(t *testing.T) {
	n := newNet(7, nil)
	post := n.neurons(192, nil)
	src := n.spikes(make([][]float64, 100)...)
	n.connect(src, post, 3.3*lsbExcCalib, "excitatory", network.Synapse{})
	_, plan := n.run(t, 0.1)
	syn := plan.Info["synapses"].([][4]int)
	sum, lo, hi := 0, 0, 0
	for _, s := range syn {
		sum += s[3]
		switch s[3] {
		case 3:
			lo++
		case 4:
			hi++
		default:
			t.Fatalf("3.3 LSB became %d", s[3])
		}
	}
	mean := float64(sum) / float64(len(syn))
	t.Logf("seed 7: %d synapses, mean %.4f LSB (3 x %d, 4 x %d)", len(syn), mean, lo, hi)
	if len(syn) != 19200 || math.Abs(mean-3.3) > 0.02 {
		t.Errorf("mean %g over %d synapses", mean, len(syn))
	}
}

// rateOverGLeak runs 32 neurons, each driven by 16 of 64 Poisson inputs.
func rateOverGLeak(t *testing.T, station string, gl float64, seed uint64, calib bool) []float64 {
	n := newNet(seed, map[string]any{"station": station, "calib_tau_mem": calib})
	src := n.poisson(64, 10)
	post := n.neurons(32, map[string]network.Value{"g_leak": network.Scalar(gl)})
	var a, b []int64
	for j := 0; j < 32; j++ {
		for k := 0; k < 16; k++ {
			a, b = append(a, int64((j*16+k*5)%64)), append(b, int64(j))
		}
	}
	n.d.Projections = append(n.d.Projections, network.Projection{Pre: network.Selection{{Population: src}}, Post: network.Selection{{Population: post}}, ReceptorType: "excitatory",
		Synapse: network.Synapse{Type: staticSyn}, Connections: &network.Connections{Pre: network.Ints(a), Post: network.Ints(b), Parameters: map[string]network.Value{"weight": network.Scalar(7 * lsbExcCalib)}}})
	n.record(post, "spikes")
	r, _ := n.run(t, 10000)
	rates := make([]float64, 32)
	segs, _ := r.Data(false)
	seg := segs[0]
	for _, id := range seg.Spikes[post].IDs {
		rates[id] += 1 / 10.0
	}
	return rates
}

func meanSD(xs []float64) (float64, float64) {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)-1))
}

// TestRateFallsWithLeak is lesson 1: the rate falls as g_leak grows.
func TestRateFallsWithLeak(t *testing.T) {
	prev := math.Inf(1)
	for _, gl := range []float64{2, 10, 20, 50, 100} {
		m, _ := meanSD(rateOverGLeak(t, "station666", gl, 3, true))
		t.Logf("station666 seed 3: g_leak %g nS: %.2f spikes/s", gl, m)
		if m > prev {
			t.Errorf("rate rose from %g to %g at g_leak %g", prev, m, gl)
		}
		prev = m
	}
	if prev > 1 {
		t.Errorf("at g_leak 100 nS the neurons still fire %g/s", prev)
	}
}

// TestNoise is lesson 2: the spread of rates across neurons (fixed-pattern
// noise) exceeds the spread across trials (temporal noise); calibration
// reduces the first; another station has another pattern.
func TestNoise(t *testing.T) {
	var trials [][]float64
	for seed := uint64(1); seed <= 4; seed++ {
		trials = append(trials, rateOverGLeak(t, "station666", 20, seed, false))
	}
	// variance across neurons in one trial, and across trials per neuron
	_, sdNeurons := meanSD(trials[0])
	vt := 0.0
	for j := range trials[0] {
		col := make([]float64, len(trials))
		for k := range trials {
			col[k] = trials[k][j]
		}
		_, sd := meanSD(col)
		vt += sd * sd
	}
	sdTrials := math.Sqrt(vt / float64(len(trials[0])))
	_, sdCal := meanSD(rateOverGLeak(t, "station666", 20, 1, true))
	_, sdOther := meanSD(rateOverGLeak(t, "station500", 20, 1, false))
	t.Logf("SD of rates across neurons %.2f/s (calibrated %.2f/s, station500 %.2f/s), across trials %.2f/s", sdNeurons, sdCal, sdOther, sdTrials)
	if !(sdNeurons > 2*sdTrials) || sdTrials == 0 {
		t.Errorf("fixed-pattern noise (%g) should dominate temporal noise (%g)", sdNeurons, sdTrials)
	}
	if !(sdCal < sdNeurons) {
		t.Errorf("calibration did not reduce the spread: %g vs %g", sdCal, sdNeurons)
	}
	same := rateOverGLeak(t, "station666", 20, 1, false)
	for j := range same {
		if same[j] != trials[0][j] {
			t.Fatal("the same station and seed gave another result")
		}
	}
}

// epspPeak returns the peak of the averaged EPSP of one synapse.
func epspPeak(t *testing.T, opts map[string]any, inhibitory bool) (peak, width float64) {
	n := newNet(5, opts)
	post := n.neurons(1, nil)
	var times []float64
	for x := 200.0; x < 2000; x += 200 {
		times = append(times, x)
	}
	src := n.spikes(times)
	rec, w := "excitatory", 7*lsbExcCalib
	if inhibitory {
		rec, w = "inhibitory", 7*lsbInhCalib
	}
	n.connect(src, post, w, rec, network.Synapse{})
	n.recordOne(post, 0)
	r, _ := n.run(t, 2000)
	segs, err := r.Data(false)
	if err != nil {
		t.Fatal(err)
	}
	v := segs[0].Signals[0].Data
	avg := make([]float64, 2000)
	for k := 1; k < 9; k++ {
		for i := range avg {
			avg[i] += v[k*2000+i] / 8
		}
	}
	base := avg[0]
	peak = 0
	for _, x := range avg {
		if math.Abs(x-base) > math.Abs(peak) {
			peak = x - base
		}
	}
	above := 0
	for _, x := range avg {
		if math.Abs(x-base) > math.Abs(peak)/2 {
			above++
		}
	}
	return peak, float64(above) * 0.1
}

// TestEPSPShape is lesson 1's second part: drvifall sets the PSP's decay,
// drviout its amplitude; inhibitory PSPs go down.
func TestEPSPShape(t *testing.T) {
	p0, w0 := epspPeak(t, nil, false)
	pf, wf := epspPeak(t, map[string]any{"drivers": []map[string]any{{"drvifall": []float64{0.5}}}}, false)
	po, _ := epspPeak(t, map[string]any{"drivers": []map[string]any{{"drviout": []float64{0.5}}}}, false)
	pi, _ := epspPeak(t, nil, true)
	t.Logf("EPSP peak %.2f mV, half width %.1f ms; drvifall x0.5: %.2f mV, %.1f ms; drviout x0.5: %.2f mV; IPSP %.2f mV", p0, w0, pf, wf, po, pi)
	if !(p0 > 0.5 && wf > 1.3*w0 && pf > p0 && po < 0.7*p0 && pi < 0) {
		t.Error("the PSPs do not follow the drivers' settings")
	}
}

// TestSTP is lesson 5: with depression successive PSPs shrink and recover
// after a pause; with facilitation they grow.
func TestSTP(t *testing.T) {
	for _, c := range []struct {
		name    string
		tauRec  float64
		tauFac  float64
		shrinks bool
	}{{"depression", 100, 0, true}, {"facilitation", 0, 100, false}} {
		n := newNet(9, map[string]any{"temporal_noise": false})
		post := n.neurons(1, nil)
		times := []float64{100, 150, 200, 250, 300, 350, 400, 700}
		src := n.spikes(times)
		n.connect(src, post, 6*lsbExcCalib, "excitatory", network.Synapse{Type: tmSyn, Parameters: map[string]network.Value{
			"U": network.Scalar(0.4), "tau_rec": network.Scalar(c.tauRec), "tau_facil": network.Scalar(c.tauFac)}})
		n.recordOne(post, 0)
		r, _ := n.run(t, 1000)
		segs, _ := r.Data(false)
		v := segs[0].Signals[0].Data
		peaks := make([]float64, len(times))
		for k, s := range times {
			i0 := int(s / 0.1)
			for i := i0; i < i0+300 && i < len(v); i++ {
				peaks[k] = math.Max(peaks[k], v[i]-v[i0])
			}
		}
		t.Logf("%s: PSP peaks %.2f mV", c.name, peaks)
		last := peaks[len(times)-2]
		if c.shrinks && !(last < 0.7*peaks[0] && peaks[len(times)-1] > last) {
			t.Errorf("%s: %v", c.name, peaks)
		}
		if !c.shrinks && !(last > 1.2*peaks[0]) {
			t.Errorf("%s: %v", c.name, peaks)
		}
	}
}

// stdpRun pairs a plastic input with a postsynaptic spike dt ms later
// (dt < 0: before), n times, and returns the weight after one evaluation.
func stdpRun(t *testing.T, dt float64, pairs int) float64 {
	n := newNet(11, map[string]any{"stdp_row_ms": 100.0*float64(pairs) + 200})
	post := n.neurons(1, nil)
	var stim, plastic []float64
	for k := 0; k < pairs; k++ {
		s := 100 + 100*float64(k)
		stim = append(stim, s)
		plastic = append(plastic, s+3.4-dt)
	}
	src := n.spikes(stim, stim, stim)
	pl := n.spikes(plastic)
	n.connect(src, post, 8*lsbExcCalib, "excitatory", network.Synapse{})
	n.connect(pl, post, 0, "excitatory", network.Synapse{Type: stdpSyn,
		TimingDependence: &network.Component{Type: pairRule}, WeightDependence: &network.Component{Type: additiveRule}})
	n.record(post, "spikes")
	r, _ := n.run(t, 100.0*float64(pairs)+200)
	if got := spikeCount(r, post); got != pairs {
		t.Fatalf("dt %g: %d postsynaptic spikes for %d volleys", dt, got, pairs)
	}
	w, err := r.Simulator().StateOf(post, "w_p0")
	if err != nil {
		t.Fatal(err)
	}
	return w[0]
}

// TestSTDP is lesson 6: the number of pairs needed for a weight change
// grows with |Δt|; causal pairs potentiate.
func TestSTDP(t *testing.T) {
	need := func(dt float64) int {
		for n := 1; n <= 40; n++ {
			if stdpRun(t, dt, n) != 0 {
				return n
			}
		}
		return 0
	}
	var ns []int
	for _, dt := range []float64{0.5, 1.5, 3} {
		ns = append(ns, need(dt))
	}
	t.Logf("pairs needed for +1 LSB at Δt = 0.5, 1.5, 3 ms: %v (1/N = %.3f, %.3f, %.3f)", ns, 1/float64(ns[0]), 1/float64(ns[1]), 1/float64(ns[2]))
	if !(ns[0] > 0 && ns[0] < ns[1] && ns[1] < ns[2]) {
		t.Errorf("pairs needed %v should grow with Δt", ns)
	}
	if w := stdpRun(t, 1, 20); w != 1 {
		t.Errorf("20 causal pairs at 1 ms: weight %g, want 1", w)
	}
}

func TestDeterministic(t *testing.T) {
	runOnce := func() string {
		n := newNet(21, nil)
		src := n.poisson(40, 30)
		post := n.neurons(20, nil)
		n.connect(src, post, 2*lsbExcCalib, "excitatory", network.Synapse{})
		n.record(post, "spikes")
		r, _ := n.run(t, 500)
		segs, _ := r.Data(false)
		return fmt.Sprint(segs[0].Spikes[post])
	}
	if a, b := runOnce(), runOnce(); a != b {
		t.Fatal("one seed gave two results")
	}
}

// FuzzOptions holds the options' parser to errors, never panics, for
// anything a description's system.options may hold.
func FuzzOptions(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `{"station":"station500","mapping_offset":42}`, `{"drivers":[{"drvifall":[0.8]}]}`,
		`{"causal_lut":[1,2,3]}`, `{"neuron_permutation":[0,1]}`, `{"icb":-1}`, `{"stdp_row_ms":1e400}`, `[1]`, `{"station":7}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := parseOptions(raw)
		if err != nil {
			return
		}
		if _, err := StationNumber(o.Station); err != nil || o.MappingOffset < 0 || o.MappingOffset >= numNeurons || !(o.Icb > 0) || !(o.STDPRowMs > 0) {
			t.Fatalf("accepted %q as %+v", raw, o)
		}
	})
}

// TestWeightQuantisationReport: the mapping report says what the 4-bit
// synapses did to each projection's weights, in the shape nmp compare reads
// (a "changes" entry per projection whose weights moved, "weights_quantised").
func TestWeightQuantisationReport(t *testing.T) {
	n := newNet(3, nil)
	post := n.neurons(4, nil)
	src := n.spikes([]float64{1}, []float64{2}, []float64{3})
	n.connect(src, post, 5*lsbExcCalib, "excitatory", network.Synapse{})                      // on a step: unchanged
	n.connect(n.spikes([]float64{1}), post, 2.5*lsbExcCalib, "excitatory", network.Synapse{}) // half-way: every weight moves by half a step
	n.connect(n.spikes([]float64{1}, []float64{4}), post, 0.2*lsbInhCalib, "inhibitory", network.Synapse{})
	n.d.Projections[1].Label = "half"
	_, plan := n.run(t, 1)
	raw, err := json.Marshal(plan.Info)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Changes []struct{ What, Detail string } `json:"changes"`
		Total   int                             `json:"weights_quantised"`
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	var steps []map[string]any
	_ = json.Unmarshal(mustField(t, raw, "weight_steps"), &steps)
	if len(steps) != 3 {
		t.Fatalf("weight_steps %v", steps)
	}
	if s := steps[0]; s["changed"].(float64) != 0 || s["connections"].(float64) != 12 {
		t.Errorf("weights on a step moved: %v", s)
	}
	if s := steps[1]; s["changed"].(float64) != 4 || math.Abs(s["max_change_uS"].(float64)-0.5*lsbExcCalib) > 1e-12 {
		t.Errorf("half-way weights: %v", s)
	}
	zeroed := steps[2]["to_zero"].(float64)
	if steps[2]["changed"].(float64) != 8 || zeroed < 1 || zeroed > 7 {
		t.Errorf("0.2-step weights: %v (stochastic rounding zeroes about 80%%, seed 3)", steps[2])
	}
	if info.Total != 12 || len(info.Changes) != 2 {
		t.Fatalf("weights_quantised %d, changes %+v", info.Total, info.Changes)
	}
	if c := info.Changes[0]; c.What != "weights" || !strings.Contains(c.Detail, `"half"`) || !strings.Contains(c.Detail, "4 of 4 weights") || !strings.Contains(c.Detail, "4-bit") {
		t.Errorf("change %+v", c)
	}
	if c := info.Changes[1]; !strings.Contains(c.Detail, fmt.Sprintf("%d became 0", int(zeroed))) {
		t.Errorf("change %+v", c)
	}
}

func mustField(t *testing.T, raw []byte, key string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m[key] == nil {
		t.Fatalf("%s: %v", key, err)
	}
	return m[key]
}

// setup(avoidSpikes=True) programs every threshold out of reach (the hardware
// module sets the threshold vout to 2.0 V): a neuron resting above its
// threshold, which fires regularly otherwise, stays silent.
func TestAvoidSpikes(t *testing.T) {
	count := func(avoid bool) int {
		n := newNet(7, map[string]any{"station": "station666", "avoid_spikes": avoid})
		p := n.neurons(3, map[string]network.Value{"v_rest": network.Scalar(-45), "v_thresh": network.Scalar(-55)})
		n.record(p, "spikes")
		r, _ := n.run(t, 200)
		return spikeCount(r, p)
	}
	if c := count(false); c < 10 {
		t.Fatalf("v_rest above v_thresh: %d spikes in 200 ms; the test needs a firing neuron", c)
	}
	if c := count(true); c != 0 {
		t.Errorf("avoid_spikes: %d spikes; want none", c)
	}
}
