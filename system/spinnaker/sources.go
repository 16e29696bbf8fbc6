package spinnaker

import (
	"math"
	"sort"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
)

// arraySource is SpikeSourceArray as sPyNNaker sends it: a spike at time t
// goes out in the tick that contains it, ceil(t/dt) (times are rounded to
// 1e-6 of a step first, so that 2.0/0.1 is tick 20, not 21).
type arraySource struct {
	pop    *engine.Population
	dt     float64
	ticks  [][]int64
	cursor []int
	st     *runState
}

func newArraySource(p *engine.Population, st *runState) *arraySource {
	return &arraySource{pop: p, ticks: make([][]int64, p.Size), cursor: make([]int, p.Size), st: st}
}

func (s *arraySource) Cost() float64 { return 0.25 }

func (s *arraySource) Prepare(dt float64) error {
	s.dt = dt
	for i, ts := range s.pop.Seqs["spike_times"] {
		ks := make([]int64, len(ts))
		for j, t := range ts {
			ks[j] = tickOf(t, dt)
		}
		sort.Slice(ks, func(a, b int) bool { return ks[a] < ks[b] })
		s.ticks[i] = ks
		// Changed between runs: continue from the next tick.
		now := s.st.tick.Load()
		s.cursor[i] = sort.Search(len(ks), func(j int) bool { return ks[j] >= now })
	}
	return nil
}

func tickOf(t, dt float64) int64 {
	x := t / dt
	return int64(math.Ceil(math.Round(x*1e6) / 1e6))
}

func (s *arraySource) Reset() {
	for i := range s.cursor {
		s.cursor[i] = 0
	}
}

func (s *arraySource) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	for i := lo; i < hi; i++ {
		ks, c := s.ticks[i], s.cursor[i]
		for c < len(ks) && ks[c] < n {
			c++ // times before the run started
		}
		for c < len(ks) && ks[c] == n {
			out.Add(i)
			c++
		}
		s.cursor[i] = c
	}
}

// poissonSource is SpikeSourcePoisson: in each tick within [start,
// start+duration), a source sends a Poisson-distributed number of spikes
// with mean rate·dt (sPyNNaker's fast sources draw this count each tick;
// its slow sources draw exponential inter-spike times, which gives the
// same process on the tick grid). Every source has its own random stream
// from the description's seed, so that results do not depend on threads.
type poissonSource struct {
	pop   *engine.Population
	dt    float64
	expL  []float64 // e^(−rate·dt)
	first []int64   // first and last+1 tick of activity
	end   []int64
	r     []rng.Stream
	runs  uint64
}

func newPoissonSource(p *engine.Population) *poissonSource {
	n := p.Size
	return &poissonSource{pop: p, expL: make([]float64, n), first: make([]int64, n), end: make([]int64, n), r: make([]rng.Stream, n)}
}

func (s *poissonSource) Cost() float64 { return 0.25 }

func (s *poissonSource) Prepare(dt float64) error {
	s.dt = dt
	ps := s.pop.Params
	for i := range s.expL {
		s.expL[i] = math.Exp(-ps["rate"][i] * dt / 1000)
		s.first[i] = tickOf(ps["start"][i], dt)
		d := ps["duration"][i]
		if math.IsInf(d, 1) || d > 1e15 {
			s.end[i] = math.MaxInt64
		} else {
			s.end[i] = tickOf(ps["start"][i]+d, dt)
		}
	}
	return nil
}

func (s *poissonSource) Reset() {
	s.runs++
	for i := range s.r {
		s.r[i] = rng.New(rng.Derive(s.pop.Seed, domPoisson, s.runs, uint64(i)))
	}
}

func (s *poissonSource) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	for i := lo; i < hi; i++ {
		if n < s.first[i] || n >= s.end[i] {
			continue
		}
		l := s.expL[i]
		if l >= 1 {
			continue
		}
		r := &s.r[i]
		p := r.Float64()
		for p > l {
			out.Add(i)
			p *= r.Float64()
		}
	}
}

// Stream domains of the system's random streams.
const (
	domPoisson uint64 = iota + 0x5e1a
	domExpand
)
