package engine

import (
	"fmt"
	"math"
)

// Izhikevich (2003) neurons in PyNN's units:
//
//	dv/dt = 0.04 v^2 + 5 v + 140 - u + 1000 I
//	du/dt = a (b v - u)
//
// with v in mV, u in mV/ms, t in ms and I = i_offset + injected currents in
// nA: the current acts as 1000*I mV/ms, as in NEST's izhikevich (I_e in pA
// added to dv/dt directly) and pyNN.brian2 (I/pF). Synaptic weights are
// voltage jumps in mV, added at the end of the step. v reaching 30 mV is a
// spike: v is set to c and u grows by d. There is no refractory period.
//
// v and u are integrated with the adaptive Dormand-Prince scheme of ode.go. A
// crossing of 30 mV inside a step is located within its substep (cubic Hermite
// interpolation), the state is integrated to it and reset there, and the
// integration goes on; the spike is reported at the end of the step. A jump
// that lifts v to 30 mV or more at the end of the step is a spike too. NEST
// and pyNN.brian2 use the forward Euler method at the simulation step
// instead, which at dt = 0.1 ms is off by several mV near spikes and shifts
// spike times; nmp's traces follow the equations.

func init() {
	registerModel("Izhikevich", func(p *Population) (Model, error) { return newIzhikevich(p), nil })
}

// izhPeak is the spike cut-off, mV.
const izhPeak = 30.0

// izhInvTol holds the inverses of the absolute error tolerances: v in mV, u
// in mV/ms.
var izhInvTol = odeVec{1 / 1e-4, 1 / 1e-5}

type izhikevich struct {
	dt               float64
	a, b, c, d, iOff []float64
	v, u             []float64
	sub              []float64
}

func newIzhikevich(p *Population) *izhikevich {
	return &izhikevich{a: p.param("a"), b: p.param("b"), c: p.param("c"), d: p.param("d"), iOff: p.param("i_offset"),
		v: p.state("v"), u: p.state("u"), sub: make([]float64, p.Size)}
}

func (m *izhikevich) Prepare(dt float64) error {
	m.dt = dt
	for i := range m.v {
		if m.c[i] >= izhPeak {
			return fmt.Errorf("neuron %d: c = %g mV must be below the spike cut-off of %g mV", i, m.c[i], izhPeak)
		}
		if m.sub[i] <= 0 || m.sub[i] > dt {
			m.sub[i] = dt
		}
	}
	return nil
}

func (m *izhikevich) Reset() {
	for i := range m.sub {
		m.sub[i] = m.dt
	}
}

func (m *izhikevich) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	dt := m.dt
	hmin := dt * 1e-7
	var wk odeWork
	for i := lo; i < hi; i++ {
		a, b := m.a[i], m.b[i]
		I := m.iOff[i]
		if in.I != nil {
			I += in.I[i]
		}
		if in.Gap != nil {
			I += in.Gap[i]
		}
		drive := 140 + 1000*I
		// The right-hand side; called directly, the compiler inlines it.
		f := func(y, dy *odeVec) {
			v := y[0]
			dy[0] = (0.04*v+5)*v + drive - y[1]
			dy[1] = a * (b*v - y[1])
		}
		wk.y = odeVec{m.v[i], m.u[i]}
		sub := m.sub[i]
		f(&wk.y, &wk.k[0])
		t := 0.0
		for t < dt {
			h, last := sub, false
			if h >= dt-t {
				h, last = dt-t, true
			}
			for s := 1; s < 7; s++ {
				wk.stage(s, 2, h)
				f(&wk.yt, &wk.k[s])
			}
			e := wk.errNorm(2, h, &izhInvTol)
			if e > 1 && h > hmin {
				sub = math.Max(nextStep(h, e), hmin)
				continue
			}
			if wk.yt[0] >= izhPeak {
				th := hermiteCross(wk.y[0], wk.yt[0], wk.k[0][0], wk.k[6][0], h, izhPeak)
				if th < 1 {
					hc := th * h
					for s := 1; s < 7; s++ {
						wk.stage(s, 2, hc)
						f(&wk.yt, &wk.k[s])
					}
					h = hc
				}
				t += h
				wk.y = wk.yt
				wk.y[0] = m.c[i]
				wk.y[1] += m.d[i]
				out.Add(i)
				f(&wk.y, &wk.k[0])
				continue
			}
			t += h
			wk.y = wk.yt
			wk.k[0] = wk.k[6]
			if !last || h >= sub {
				sub = math.Min(nextStep(h, e), dt)
			}
		}
		m.sub[i] = sub
		v, u := wk.y[0]+inE[i]+inI[i], wk.y[1]
		inE[i], inI[i] = 0, 0
		if v >= izhPeak {
			out.Add(i)
			v = m.c[i]
			u += m.d[i]
		}
		m.v[i], m.u[i] = v, u
	}
}

// Cost is relative to a LIF neuron (adaptive steps: about 100 ns per neuron-step, BenchmarkModels).
func (m *izhikevich) Cost() float64 { return 20 }
