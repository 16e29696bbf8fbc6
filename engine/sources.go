package engine

import (
	"fmt"
	"math"
	"sort"

	"github.com/nmp-platform/nmp/internal/rng"
)

// Spike sources. A spike at a time t in (t_n, t_(n+1)] is emitted in step n
// and carries the time t_(n+1): times are rounded up to the grid, except for
// SpikeSourceArray, whose times are rounded to the nearest grid point (and to
// dt at the earliest, since nothing can be emitted before the first step).

func init() {
	registerModel("SpikeSourceArray", newSpikeArray)
	registerModel("SpikeSourcePoisson", func(p *Population) (Model, error) { return newRenewal(p, renewPoisson), nil })
	registerModel("SpikeSourcePoissonRefractory", func(p *Population) (Model, error) { return newRenewal(p, renewPoissonDead), nil })
	registerModel("SpikeSourceGamma", func(p *Population) (Model, error) { return newRenewal(p, renewGamma), nil })
}

type spikeArray struct {
	times  [][]float64
	stamps [][]int64
	cursor []int
}

func newSpikeArray(p *Population) (Model, error) {
	return &spikeArray{times: p.Seqs["spike_times"], cursor: make([]int, p.Size)}, nil
}

func (s *spikeArray) Prepare(dt float64) error {
	s.stamps = make([][]int64, len(s.times))
	for i, ts := range s.times {
		st := make([]int64, len(ts))
		for k, t := range ts {
			st[k] = max(steps(t, dt), 1)
		}
		sort.Slice(st, func(a, b int) bool { return st[a] < st[b] })
		s.stamps[i] = st
		// Step skips stamps already past, so the cursor may restart.
		s.cursor[i] = 0
	}
	return nil
}

func (s *spikeArray) Reset() { clear(s.cursor) }

func (s *spikeArray) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	next := n + 1
	for i := lo; i < hi; i++ {
		st := s.stamps[i]
		c := s.cursor[i]
		for c < len(st) && st[c] <= next {
			if st[c] == next {
				out.Add(i)
			}
			c++
		}
		s.cursor[i] = c
	}
}

type renewalKind int

const (
	renewPoisson renewalKind = iota
	renewPoissonDead
	renewGamma
)

// renewal is a renewal process per neuron: Poisson, Poisson with dead time,
// or gamma, active from start for duration.
type renewal struct {
	kind                  renewalKind
	popName               string
	rate, start, duration []float64
	dead, alpha, beta     []float64
	next                  []float64 // time of the next spike, ms; NaN: not drawn yet
	streams               []rng.Stream
	seed                  uint64
	dt                    float64
}

func newRenewal(p *Population, kind renewalKind) *renewal {
	r := &renewal{kind: kind, popName: p.Type.Name, start: p.param("start"), duration: p.param("duration"),
		next: make([]float64, p.Size), streams: make([]rng.Stream, p.Size), seed: p.Seed}
	switch kind {
	case renewPoisson:
		r.rate = p.param("rate")
	case renewPoissonDead:
		r.rate, r.dead = p.param("rate"), p.param("tau_refrac")
	case renewGamma:
		r.alpha, r.beta = p.param("alpha"), p.param("beta")
	}
	for i := range r.streams {
		r.streams[i].Seed(rng.Derive(p.Seed, domainSource, uint64(i)))
	}
	for i := range r.next {
		r.next[i] = math.NaN()
	}
	return r
}

func (r *renewal) Prepare(dt float64) error {
	r.dt = dt
	if r.kind == renewPoissonDead {
		for i, rate := range r.rate {
			if rate > 0 && 1000/rate <= r.dead[i] {
				return fmt.Errorf("neuron %d: a rate of %g Hz cannot be reached with a dead time of %g ms", i, rate, r.dead[i])
			}
		}
	}
	// Parameters may have changed: draw the next spikes afresh from now on.
	// The processes are memoryless (Poisson) or restart (gamma), as after a
	// change of rate in NEST.
	for i := range r.next {
		r.next[i] = math.NaN()
	}
	return nil
}

func (r *renewal) Reset() {
	for i := range r.next {
		r.next[i] = math.NaN()
	}
}

// isi draws an inter-spike interval in ms for neuron i.
func (r *renewal) isi(i int) float64 {
	s := &r.streams[i]
	switch r.kind {
	case renewPoisson:
		if r.rate[i] <= 0 {
			return math.Inf(1)
		}
		return s.Exp() * 1000 / r.rate[i]
	case renewPoissonDead:
		if r.rate[i] <= 0 {
			return math.Inf(1)
		}
		return r.dead[i] + s.Exp()*(1000/r.rate[i]-r.dead[i])
	default:
		if r.beta[i] <= 0 {
			return math.Inf(1)
		}
		return s.Gamma(r.alpha[i]) * 1000 / r.beta[i]
	}
}

func (r *renewal) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	t0 := float64(n) * r.dt
	t1 := float64(n+1) * r.dt
	for i := lo; i < hi; i++ {
		nx := r.next[i]
		if nx != nx { // NaN: draw the first spike after the later of now and start
			nx = math.Max(t0, r.start[i]) + r.isi(i)
		}
		end := r.start[i] + r.duration[i]
		for nx <= t1 {
			if nx > end {
				nx = math.Inf(1)
				break
			}
			out.Add(i)
			nx += r.isi(i)
		}
		r.next[i] = nx
	}
}
