package spinnaker

import (
	"math"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
)

// plainAlpha is a second, plain implementation of IF_curr_alpha's tick
// (synapse_types_alpha_impl.h with the LIF): one neuron, int64 arithmetic
// with explicit floors, the C code's order written out again.
type plainAlpha struct {
	V, refract int32
	lin, ex, q [2]int64
	dec        [2]int64
	dtt        [2]int64
	p          lifConst
	shift      [2]uint32
}

func pmul(a, b int64) int64   { return int64(int32((a * b) >> 15)) } // accum × accum, toward −∞
func pdecay(x, d int64) int64 { return int64(int32((x * d) >> 32)) } // decay_s1615
func pdiv(a, b int64) int64 { // kdivk, positive operands
	return int64(int32((a << 15) / b))
}

func (n *plainAlpha) tick(words [2]uint32, iext float64) bool {
	for t := 0; t < 2; t++ {
		w := words[t]
		if w > 0xFFFF {
			w = 0xFFFF
		}
		x := int64(w) << n.shift[t]
		if x > 0 {
			n.q[t] = x
			n.ex[t] = int64(int32(pdecay(n.ex[t], n.dec[t]) + 32768))
			temp := 32768 - pdiv(32768, n.ex[t])
			n.lin[t] = pmul(int64(int32(n.lin[t]+pmul(x, n.dtt[t]))), temp)
		}
	}
	exc, inh := pmul(n.lin[0], n.ex[0]), pmul(n.lin[1], n.ex[1])
	if n.refract <= 0 {
		in := int64(int32(exc - inh + int64(n.p.iOff) + int64(toK(iext))))
		a := int64(int32(pmul(in, int64(n.p.r)) + int64(n.p.vRest)))
		n.V = int32(a - pmul(int64(n.p.expTC), int64(int32(a-int64(n.V)))))
	} else {
		n.refract--
	}
	spiked := n.V >= n.p.vThresh
	if spiked {
		n.V, n.refract = n.p.vReset, n.p.tRef
	}
	for t := 0; t < 2; t++ {
		n.lin[t] = int64(int32(n.lin[t] + pmul(n.q[t], n.dtt[t])))
		n.ex[t] = pdecay(n.ex[t], n.dec[t])
	}
	return spiked
}

// TestAlphaBitExact holds IF_curr_alpha against the plain implementation:
// 97 neurons of random parameters, random words (saturating ones among
// them) and currents, random splits into thread ranges, every state word
// after every tick.
func TestAlphaBitExact(t *testing.T) {
	const seed, n, steps = 5, 97, 3000
	t.Logf("seed %d", seed)
	r := rng.New(seed)
	p := testPop(t, "IF_curr_alpha", n, &r)
	shifts := [nSynTypes]uint32{2, 4}
	m := newLIFKind(p, false, false, newRingScale(shifts))
	m.alpha = newAlphaState(n)
	m.views = true
	dt := 0.1
	if err := m.Prepare(dt); err != nil {
		t.Fatal(err)
	}
	m.Reset()
	plain := make([]plainAlpha, n)
	for i := range plain {
		pa := &plain[i]
		pa.V, pa.p, pa.shift = toK(p.State["v"][i]), m.k[i], [2]uint32{shifts[0], shifts[1]}
		for k, tau := range [2]float64{p.Params["tau_syn_E"][i], p.Params["tau_syn_I"][i]} {
			pa.dec[k] = int64(toU032(math.Exp(-dt / tau)))
			pa.dtt[k] = int64(math.Round(dt / (tau * tau) * 32768))
		}
	}
	lsb := [2]float64{math.Ldexp(1, int(shifts[0])-15), math.Ldexp(1, int(shifts[1])-15)}
	inE, inI, iext := make([]float64, n), make([]float64, n), make([]float64, n)
	in := &engine.Input{Syn: [][]float64{inE, inI}, I: iext}
	var out engine.Spikes
	spikes := 0
	for s := int64(0); s < steps; s++ {
		words := make([][2]uint32, n)
		for i := 0; i < n; i++ {
			if r.Float64() < 0.2 {
				words[i][0] = uint32(r.Intn(3000))
				if r.Float64() < 0.01 {
					words[i][0] = 70000
				}
			}
			if r.Float64() < 0.1 {
				words[i][1] = uint32(r.Intn(2000))
			}
			inE[i], inI[i] = float64(words[i][0])*lsb[0], -float64(words[i][1])*lsb[1]
			iext[i] = 0.3 * r.Normal()
		}
		want := map[int32]bool{}
		for i := range plain {
			if plain[i].tick(words[i], iext[i]) {
				want[int32(i)] = true
			}
		}
		out.IDs = out.IDs[:0]
		cut := 1 + r.Intn(n-1)
		m.Step(s, 0, cut, in, &out)
		m.Step(s, cut, n, in, &out)
		if len(out.IDs) != len(want) {
			t.Fatalf("step %d: %d spikes, plain %d", s, len(out.IDs), len(want))
		}
		spikes += len(out.IDs)
		for i := range plain {
			a, pa := m.alpha, &plain[i]
			for k := 0; k < 2; k++ {
				if int64(a.lin[k][i]) != pa.lin[k] || int64(a.exp[k][i]) != pa.ex[k] || int64(a.q[k][i]) != pa.q[k] {
					t.Fatalf("step %d neuron %d type %d: model lin %d exp %d q %d, plain %d %d %d", s, i, k,
						a.lin[k][i], a.exp[k][i], a.q[k][i], pa.lin[k], pa.ex[k], pa.q[k])
				}
			}
			if m.v[i] != pa.V || m.refr[i] != pa.refract {
				t.Fatalf("step %d neuron %d: model V %d refr %d, plain %d %d", s, i, m.v[i], m.refr[i], pa.V, pa.refract)
			}
		}
	}
	if spikes < 100 {
		t.Fatalf("only %d spikes: the test exercises little", spikes)
	}
	t.Logf("%d spikes", spikes)
}

// TestAlphaPSC: one input x at tick 0 gives, in fixed point, the current
// of the same recurrences in float64 (within the decays' truncation), and
// that is the alpha function x·(t/τ²)·e^(−t/τ), t from the input's tick
// (sPyNNaker's normalisation: charge x, peak x/(e·τ) at t = τ).
func TestAlphaPSC(t *testing.T) {
	const dt, tau, x = 0.1, 2.0, 1.5
	a := newAlphaState(1)
	a.prepare(dt, []float64{tau}, []float64{tau})
	a.add(0, toK(x), 0)
	// the float recurrences
	dec, dtt := math.Exp(-dt/tau), dt/(tau*tau)
	lin, ex := 0.0, 1.0 // after the input: exp = 1, lin = (0 + x·dtt)·(1 − 1/1)
	charge, peak, peakT, worstF, worstA := 0.0, 0.0, 0.0, 0.0, 0.0
	for k := 0; k < 400; k++ {
		exc, _ := a.response(0)
		got := fromK(exc)
		tt := float64(k) * dt
		worstF = math.Max(worstF, math.Abs(got-lin*ex))
		worstA = math.Max(worstA, math.Abs(got-x*tt/(tau*tau)*math.Exp(-tt/tau)))
		charge += got * dt
		if got > peak {
			peak, peakT = got, tt
		}
		a.shape(0)
		lin += x * dtt
		ex *= dec
	}
	t.Logf("peak %.5f nA at %.1f ms (alpha function %.5f at %.1f), charge %.4f pC (%.1f), largest difference from the float recurrences %.2g nA, from the alpha function %.2g nA",
		peak, peakT, x/(math.E*tau), tau, charge, x, worstF, worstA)
	// The difference is the exponential buffer's truncation, an LSB a tick.
	if worstF > 2e-3*x || math.Abs(peakT-tau) > dt || math.Abs(charge-x) > 0.02*x || math.Abs(peak-x/(math.E*tau)) > 1e-3 {
		t.Fatal("the alpha synapse's current is not x·(t/τ²)·e^(−t/τ) within the fixed point's error")
	}
}
