package spinnaker

import (
	"math"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
)

// plainIzh is the Izhikevich tick written out again from
// neuron_model_izh_impl.h, one neuron at a time, with the fixed-point
// products spelled out.
type plainIzh struct {
	V, U, gE, gI, h int32
	a, b, c, d      int32
	decE, initE     uint32
	dt              int32
}

func (n *plainIzh) tick(words uint32, iOff int32) bool {
	if words > 0xFFFF {
		words = 0xFFFF
	}
	n.gE += int32((int64(int32(words)<<4) * int64(n.initE)) >> 32) // shift 4
	in := n.gE - n.gI + iOff
	mul := func(x, y int32) int32 { return int32((int64(x) * int64(y)) >> 15) }
	k140, k5, m, half := int32(140<<15), int32(5<<15), int32(1311), int32(1<<14)
	v, u, h := n.V, n.U, n.h
	pre := k140 + in - u
	alpha := pre + mul(k5+mul(m, v), v)
	eta := v + mul(mul(h, alpha), half)
	beta := mul(mul(mul(h, mul(n.b, v)-u), n.a), half)
	n.V = v + mul(h, pre-beta+mul(k5+mul(m, eta), eta))
	n.U = u + mul(mul(n.a, h), -u-beta+mul(n.b, eta))
	n.h = n.dt
	spiked := n.V >= 30<<15
	if spiked {
		n.V = n.c
		n.U += n.d
		n.h = mul(n.dt, toK(1.85))
	}
	n.gE = int32((int64(n.gE) * int64(n.decE)) >> 32)
	return spiked
}

func izhPop(n int, r *rng.Stream) *engine.Population {
	ct := userCatalog.Cells["Izhikevich"]
	p := &engine.Population{Size: n, Type: ct, Params: map[string][]float64{}, State: map[string][]float64{}}
	for _, pd := range ct.Params {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = pd.Default
			switch pd.Name {
			case "a":
				xs[i] = 0.02 + 0.08*r.Float64()
			case "d":
				xs[i] = 2 + 6*r.Float64()
			case "i_offset":
				xs[i] = 5 + 10*r.Float64()
			}
		}
		p.Params[pd.Name] = xs
	}
	for _, sd := range ct.State {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = sd.Default
		}
		p.State[sd.Name] = xs
	}
	return p
}

// The model's tick agrees bit for bit with the plain one.
func TestIzhikevichBitExact(t *testing.T) {
	const seed, n, steps = 9, 31, 5000
	t.Logf("seed %d", seed)
	r := rng.New(seed)
	p := izhPop(n, &r)
	m := newIzh(p, newRingScale([nSynTypes]uint32{4, 4}))
	m.views = true
	if err := m.Prepare(1.0); err != nil {
		t.Fatal(err)
	}
	m.Reset()
	plain := make([]plainIzh, n)
	for i := range plain {
		c := &m.k[i]
		plain[i] = plainIzh{V: toK(-70), U: toK(-14), h: toK(1), dt: toK(1), a: c.a, b: c.b, c: c.c, d: c.d, decE: c.decE, initE: c.initE}
	}
	inE, inI := make([]float64, n), make([]float64, n)
	in := &engine.Input{Syn: [][]float64{inE, inI}}
	var out engine.Spikes
	spikes := 0
	lsb := math.Ldexp(1, 4-15)
	for s := int64(0); s < steps; s++ {
		words := make([]uint32, n)
		for i := range words {
			if r.Float64() < 0.1 {
				words[i] = uint32(r.Intn(20000))
			}
			inE[i] = float64(words[i]) * lsb
		}
		want := map[int32]bool{}
		for i := range plain {
			if plain[i].tick(words[i], m.k[i].iOff) {
				want[int32(i)] = true
			}
		}
		out.IDs = out.IDs[:0]
		m.Step(s, 0, n, in, &out)
		if len(out.IDs) != len(want) {
			t.Fatalf("step %d: %d spikes, plain %d", s, len(out.IDs), len(want))
		}
		spikes += len(out.IDs)
		for i := range plain {
			if m.v[i] != plain[i].V || m.u[i] != plain[i].U || m.ie[i] != plain[i].gE || m.h[i] != plain[i].h {
				t.Fatalf("step %d neuron %d: model (%d %d %d %d), plain (%d %d %d %d)", s, i, m.v[i], m.u[i], m.ie[i], m.h[i],
					plain[i].V, plain[i].U, plain[i].gE, plain[i].h)
			}
			if m.vF[i] != fromK(m.v[i]) || m.uF[i] != fromK(m.u[i]) {
				t.Fatal("the recorded view differs from the state")
			}
		}
	}
	if spikes < 500 {
		t.Errorf("only %d spikes", spikes)
	}
}

// Against the same midpoint scheme in float64, a regular-spiking neuron
// under DC gives nearly the same rate: s16.15's rounding of the quadratic
// term moves spike times by little.
func TestIzhikevichAgainstFloat(t *testing.T) {
	for _, iDC := range []float64{5, 10, 20} {
		c := izhConst{a: toK(0.02), b: toK(0.2), c: toK(-65), d: toK(8), iOff: toK(iDC)}
		fx := struct{ v, u, h int32 }{toK(-70), toK(-14), toK(1)}
		fv, fu, fh := -70.0, -14.0, 1.0
		nfx, nfl := 0, 0
		for s := 0; s < 10000; s++ {
			v, u := izhStep(fx.v, fx.u, fx.h, c.iOff, &c)
			fx.h = toK(1)
			if v >= izhThresh {
				v, u, fx.h = c.c, u+c.d, mulK(toK(1), izhTQ)
				nfx++
			}
			fx.v, fx.u = v, u
			// float
			pre := 140 + iDC - fu
			alpha := pre + (5+0.040008544921875*fv)*fv
			eta := fv + 0.5*fh*alpha
			beta := 0.5 * fh * (0.2*fv - fu) * 0.02
			fv, fu = fv+fh*(pre-beta+(5+0.040008544921875*eta)*eta), fu+0.02*fh*(-fu-beta+0.2*eta)
			fh = 1
			if fv >= 30 {
				fv, fu, fh = -65, fu+8, 1.85
				nfl++
			}
		}
		t.Logf("i_offset %g nA: %d spikes in 10 s fixed point, %d float", iDC, nfx, nfl)
		if nfl < 10 || math.Abs(float64(nfx-nfl)) > 0.02*float64(nfl)+1 {
			t.Errorf("i_offset %g: %d spikes in fixed point, %d in float", iDC, nfx, nfl)
		}
	}
}

// TestIzhikevichCondBitExact: extra_models.Izhikevich_cond (IzkCondExp)
// against a plain rewrite: conductances turned into the input with the
// membrane at the start of the tick, excitatory and inhibitory words,
// 5000 ticks, every state word.
func TestIzhikevichCondBitExact(t *testing.T) {
	const seed, n, steps = 11, 31, 5000
	t.Logf("seed %d", seed)
	r := rng.New(seed)
	p := izhPop(n, &r)
	ct := userCatalog.Cells["Izhikevich_cond"]
	p.Type = ct
	p.Params["e_rev_E"], p.Params["e_rev_I"] = make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		p.Params["e_rev_E"][i] = 10 * r.Float64()
		p.Params["e_rev_I"][i] = -70 - 10*r.Float64()
		p.Params["i_offset"][i] = 2 + 3*r.Float64()
	}
	m := newIzh(p, newRingScaleFor([nSynTypes]uint32{1, 2}, true))
	m.cond = true
	m.views = true
	if err := m.Prepare(1.0); err != nil {
		t.Fatal(err)
	}
	m.Reset()
	mul := func(x, y int32) int32 { return int32((int64(x) * int64(y)) >> 15) }
	type plain struct{ V, U, gE, gI, h int32 }
	ps := make([]plain, n)
	for i := range ps {
		ps[i] = plain{V: toK(-70), U: toK(-14), h: toK(1)}
	}
	inE, inI := make([]float64, n), make([]float64, n)
	in := &engine.Input{Syn: [][]float64{inE, inI}}
	var out engine.Spikes
	spikes := 0
	// the engine's weights are in µS, the words are of 32·g
	lsb := [2]float64{math.Ldexp(1, 1-15) / 32, math.Ldexp(1, 2-15) / 32}
	for s := int64(0); s < steps; s++ {
		want := map[int32]bool{}
		for i := 0; i < n; i++ {
			var we, wi uint32
			if r.Float64() < 0.1 {
				we = uint32(r.Intn(3000))
			}
			if r.Float64() < 0.05 {
				wi = uint32(r.Intn(3000))
			}
			inE[i], inI[i] = float64(we)*lsb[0], float64(wi)*lsb[1]
			c, q := &m.k[i], &ps[i]
			q.gE += int32((int64(int32(we)<<1) * int64(c.initE)) >> 32)
			q.gI += int32((int64(int32(wi)<<2) * int64(c.initI)) >> 32)
			// input_type_conductance: the state >> 5
			input := mul(q.gE>>5, c.eRevE-q.V) - mul(-(q.gI>>5), c.eRevI-q.V) + c.iOff
			k140, k5, mg, half := int32(140<<15), int32(5<<15), int32(1311), int32(1<<14)
			v, u, h := q.V, q.U, q.h
			pre := k140 + input - u
			alpha := pre + mul(k5+mul(mg, v), v)
			eta := v + mul(mul(h, alpha), half)
			beta := mul(mul(mul(h, mul(c.b, v)-u), c.a), half)
			q.V = v + mul(h, pre-beta+mul(k5+mul(mg, eta), eta))
			q.U = u + mul(mul(c.a, h), -u-beta+mul(c.b, eta))
			q.h = toK(1)
			if q.V >= 30<<15 {
				q.V, q.U, q.h = c.c, q.U+c.d, mul(toK(1), toK(1.85))
				want[int32(i)] = true
			}
			q.gE = int32((int64(q.gE) * int64(c.decE)) >> 32)
			q.gI = int32((int64(q.gI) * int64(c.decI)) >> 32)
		}
		out.IDs = out.IDs[:0]
		cut := 1 + r.Intn(n-1)
		m.Step(s, 0, cut, in, &out)
		m.Step(s, cut, n, in, &out)
		if len(out.IDs) != len(want) {
			t.Fatalf("step %d: %d spikes, plain %d", s, len(out.IDs), len(want))
		}
		spikes += len(out.IDs)
		for i := range ps {
			if m.v[i] != ps[i].V || m.u[i] != ps[i].U || m.ie[i] != ps[i].gE || m.ii[i] != ps[i].gI {
				t.Fatalf("step %d neuron %d: model (%d %d %d %d), plain (%d %d %d %d)", s, i, m.v[i], m.u[i], m.ie[i], m.ii[i], ps[i].V, ps[i].U, ps[i].gE, ps[i].gI)
			}
		}
	}
	if spikes < 100 {
		t.Fatalf("only %d spikes", spikes)
	}
	t.Logf("%d spikes", spikes)
}
