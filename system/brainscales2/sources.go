package brainscales2

import (
	"cmp"
	"math"
	"slices"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
)

// Spike sources. Off-chip sources (SpikeSourceArray, SpikeSourcePoisson)
// are played by the FPGA: their times are truncated to the FPGA clock
// (8 ns), their events leave on one of the FPGA's links into the event
// crossbar, and they queue at the PADI buses of the synapse drivers they
// feed, one event per clock cycle; an event that finds a full queue is
// dropped. SpikeSourcePoissonOnChip uses a background spike generator,
// which feeds the crossbar directly. The plan computes every event's
// arrival before each run and hands the arrivals to hxSource, which emits
// them into the engine.

// hxSource is the engine model that emits precomputed arrivals. They are
// kept merged over the population, ordered by step, so that a step costs
// nothing when no event is due.
type hxSource struct {
	size   int
	stamps []int64 // sorted
	ids    []int32 // neuron of each stamp
	// cursor[lo] is the next stamp of the thread whose range starts at lo:
	// each thread walks the list on its own.
	cursor []int
	st     *runState
}

func newHXSource(n int, st *runState) *hxSource {
	return &hxSource{size: n, st: st, cursor: make([]int, n+1)}
}

func (s *hxSource) Prepare(float64) error { return nil }

func (s *hxSource) Reset() {
	s.stamps, s.ids = s.stamps[:0], s.ids[:0]
	clear(s.cursor)
}

func (s *hxSource) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	s.st.clock.Store(n + 1)
	next := n + 1
	k := s.cursor[lo]
	for k < len(s.stamps) && s.stamps[k] < next {
		k++
	}
	for ; k < len(s.stamps) && s.stamps[k] == next; k++ {
		if i := int(s.ids[k]); i >= lo && i < hi {
			out.Add(i)
		}
	}
	s.cursor[lo] = k
}

// arrival is an event's arrival step at a source neuron.
type arrival struct {
	t int64
	i int32
}

// setArrivals replaces the pending arrivals: those at or after step from
// are kept, add is merged in.
func (s *hxSource) setArrivals(from int64, add []arrival) {
	evs := add
	for k := range s.stamps {
		if s.stamps[k] >= from {
			evs = append(evs, arrival{s.stamps[k], s.ids[k]})
		}
	}
	slices.SortFunc(evs, func(a, b arrival) int {
		if a.t != b.t {
			return cmp.Compare(a.t, b.t)
		}
		return cmp.Compare(a.i, b.i)
	})
	s.stamps, s.ids = s.stamps[:0], s.ids[:0]
	clear(s.cursor)
	for _, e := range evs {
		s.stamps = append(s.stamps, e.t)
		s.ids = append(s.ids, e.i)
	}
}

// srcPop is a source population as the plan generates its events.
type srcPop struct {
	index   int // population index
	kind    string
	size    int
	offset  int // global id of its first neuron
	times   [][]float64
	rate    []float64
	start   []float64
	dur     []float64
	version uint64 // bumped when a parameter changes: new Poisson draws
	seed    uint64
	// background generator
	gen           int
	period, rate8 int
	genSeed       uint64
}

// event is one spike on its way to the synapse drivers.
type event struct {
	tNs   float64
	src   int32 // global id
	pop   int32
	local int32
	bg    bool
}

const poissonBlockNs = 100e3 // off-chip Poisson trains are drawn in 100 µs blocks

// events appends the events of p in [t0, t1) ns.
func (p *srcPop) events(t0, t1 float64, out []event) []event {
	add := func(i int, t float64, bg bool) {
		out = append(out, event{tNs: t, src: int32(p.offset + i), pop: int32(p.index), local: int32(i), bg: bg})
	}
	switch p.kind {
	case sourceArray:
		for i, ts := range p.times {
			for _, t := range ts {
				tn := fpgaTime(t)
				if tn >= t0 && tn < t1 {
					add(i, tn, false)
				}
			}
		}
	case sourcePoisson:
		// Drawn once per parameter set and kept over resets, as
		// pynn-brainscales memorises its Poisson trains.
		for i := range p.rate {
			lo, hi := math.Max(t0, p.start[i]*1e6), math.Min(t1, (p.start[i]+p.dur[i])*1e6)
			if !(hi > lo) || !(p.rate[i] > 0) {
				continue
			}
			for b := math.Floor(lo / poissonBlockNs); b*poissonBlockNs < hi; b++ {
				r := rng.New(rng.Derive(p.seed, domSource, uint64(i), uint64(b), p.version))
				bs, be := b*poissonBlockNs, (b+1)*poissonBlockNs
				n := r.Poisson(p.rate[i] * poissonBlockNs * 1e-9)
				for k := 0; k < n; k++ {
					t := bs + r.Float64()*(be-bs)
					tn := math.Floor(t/fpgaTickNs) * fpgaTickNs
					if tn >= lo && tn < hi && tn >= p.start[i]*1e6 {
						add(i, tn, false)
					}
				}
			}
		}
	case sourceOnChip:
		if p.rate8 < 0 {
			return out
		}
		per := float64(p.period+1) * fpgaTickNs
		for k := math.Ceil(t0 / per); k*per < t1; k++ {
			r := rng.New(rng.Derive(p.genSeed, uint64(k)))
			if int(r.Uint64()&0xff) <= p.rate8 {
				add(r.Intn(p.size), k*per, true)
			}
		}
	}
	return out
}

// fpgaTime converts a time in ms to ns on the FPGA's clock (truncated).
func fpgaTime(ms float64) float64 { return math.Floor(ms*1e6/fpgaTickNs+1e-9) * fpgaTickNs }

// backgroundConfig returns the generator's period and 8-bit rate for a
// population of n sources at rate Hz each, as pynn-brainscales computes
// them; ok is false when the generator cannot reach that rate.
func backgroundConfig(rate float64, n int) (period, rate8 int, ok bool) {
	hw := rate * float64(n)
	if hw > backgroundHz {
		return 0, 0, false
	}
	if hw <= 0 {
		return 0, -1, true
	}
	rate8 = int(math.Round(255 * hw / backgroundHz))
	prob := float64(rate8+1) / 256
	period = int(math.Round(backgroundHz/hw*prob)) - 1
	if period > 0xffff {
		period = 0xffff
	}
	if period < 0 {
		period = 0
	}
	return period, rate8, true
}

// crossbar is the state of the event path between runs of a segment.
type crossbar struct {
	linkFree [4]float64
	busFree  [numHemispheres * padiBusesPerHemi]float64
	fifo     int
	events   int64
	dropped  int64
}

func (x *crossbar) reset() {
	*x = crossbar{fifo: x.fifo, events: x.events, dropped: x.dropped}
}

// route serialises the events (sorted by time) through the FPGA links and
// the PADI buses they use (busMask by source), and returns each surviving
// event's arrival time in ns; dropped events get NaN.
func (x *crossbar) route(evs []event, busMask func(src int32) uint8, arrival []float64) {
	limit := float64(x.fifo) * busServiceNs
	for k := range evs {
		e := &evs[k]
		x.events++
		t := e.tNs
		if !e.bg {
			l := int(e.src) % len(x.linkFree)
			t = math.Max(t, x.linkFree[l])
			x.linkFree[l] = t + busServiceNs
		}
		mask := busMask(e.src)
		full := false
		for b := 0; b < len(x.busFree); b++ {
			if mask&(1<<b) != 0 && x.busFree[b]-t > limit {
				full = true
			}
		}
		if full {
			x.dropped++
			arrival[k] = math.NaN()
			continue
		}
		at := t
		for b := 0; b < len(x.busFree); b++ {
			if mask&(1<<b) != 0 {
				s := math.Max(t, x.busFree[b])
				x.busFree[b] = s + busServiceNs
				at = math.Max(at, s)
			}
		}
		arrival[k] = at
	}
}

// fillNumbers evaluates a per-neuron number parameter.
func fillNumbers(v *network.Value, n int, def float64, seed uint64) []float64 {
	xs := make([]float64, n)
	switch {
	case v == nil || !v.IsSet():
		for i := range xs {
			xs[i] = def
		}
	case v.Kind == network.KindScalar:
		for i := range xs {
			xs[i] = v.Scalar
		}
	case v.Kind == network.KindArray:
		a := v.Array.Float64s()
		for i := range xs {
			if len(a) == 1 {
				xs[i] = a[0]
			} else {
				xs[i] = a[i]
			}
		}
	case v.Kind == network.KindRandom:
		r := rng.New(seed)
		for i := range xs {
			xs[i] = v.Dist.Draw(&r)
		}
	}
	return xs
}

// fillSeqs evaluates a per-neuron sequence parameter.
func fillSeqs(v *network.Value, n int) [][]float64 {
	out := make([][]float64, n)
	if v == nil || !v.IsSet() {
		return out
	}
	for i := range out {
		switch v.Kind {
		case network.KindScalar:
			out[i] = []float64{v.Scalar}
		case network.KindRagged:
			out[i] = append([]float64(nil), v.Seq(i)...)
		case network.KindArray:
			out[i] = append([]float64(nil), v.Array.Float64s()...)
		}
	}
	return out
}
