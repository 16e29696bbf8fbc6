package brainscales1

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nmp-platform/nmp/engine"
)

// The DNC mergers in the run: every neuron's spike enters its merger, which
// passes one event per PLL clock and buffers l1Buffer; a spike that finds
// the buffer full is lost on L1 and is deleted for all its targets and for
// the record (the ESS's "Layer 1 events lost": synchronous firing on one
// HICANN).
//
// The neuron models are wrapped: a spike fired in step n is held, and in
// step n+1 its merger (all of the merger's neurons' spikes of step n, in
// the priority order of their engine index) decides whether it passes; a
// passing spike is emitted then, one step late. The plan shortens the
// delays of the neurons' projections and the readout the recorded times by
// that step, so only the lost spikes differ from an unwrapped run. Waiting
// a step lets every merger see all its spikes of step n, whichever threads
// stepped them: the engine's barrier lies between the two steps, and each
// segment works the mergers it needs out from the same data, so the
// outcome does not depend on the thread count. A spike fired in a run's
// last step is not emitted (it would arrive after the run).
type l1Net struct {
	// fired[pop][parity][i]: neuron i of the population fired in the last
	// step of that parity.
	fired [][2][]bool
	// members[m] are merger m's neurons as (population, index), in priority
	// order; of[pop][i] is neuron i's merger and its position there.
	members [][][2]int32
	of      [][]mergerSlot
	// serve is the merger's service interval (biological ms).
	serve, dt float64
	lost      atomic.Int64
}

type mergerSlot struct{ merger, pos int32 }

// newL1Net lists the mergers of the placed neurons.
func (m *mapper) newL1Net(dt float64) (*l1Net, error) {
	n := &l1Net{fired: make([][2][]bool, len(m.d.Populations)), of: make([][]mergerSlot, len(m.d.Populations)),
		serve: speedup / m.opts.PLLFreq * 1e3, dt: dt}
	index := map[int32]int32{}
	for p, pop := range m.d.Populations {
		if isSource(pop.CellType) {
			continue
		}
		n.fired[p] = [2][]bool{make([]bool, pop.Size), make([]bool, pop.Size)}
		n.of[p] = make([]mergerSlot, pop.Size)
		for i := 0; i < pop.Size; i++ {
			k := m.pl.of[p][i]
			key := int32(m.pl.hicann[k])*numDNCMergers + int32(m.pl.merger[k])
			g, ok := index[key]
			if !ok {
				g = int32(len(n.members))
				index[key] = g
				n.members = append(n.members, nil)
			}
			if len(n.members[g]) >= 64 {
				return nil, fmt.Errorf("%s: more than 64 neurons on DNC merger %d of %s (the merger routing gives at most %d)", m.d.PopName(p), m.pl.merger[k], hicannName(int(m.pl.hicann[k])), l1Addresses)
			}
			n.of[p][i] = mergerSlot{merger: g, pos: int32(len(n.members[g]))}
			n.members[g] = append(n.members[g], [2]int32{int32(p), int32(i)})
		}
	}
	return n, nil
}

func (n *l1Net) reset() {
	for _, f := range n.fired {
		clear(f[0])
		clear(f[1])
	}
	n.lost.Store(0)
}

// l1Model is a neuron model whose spikes go through their DNC mergers.
type l1Model struct {
	inner engine.Model
	net   *l1Net
	pop   int
	off   int32
	segs  sync.Map // lo -> *mergerState
}

func (n *l1Net) wrap(f engine.ModelFactory) engine.ModelFactory {
	return func(p *engine.Population) (engine.Model, error) {
		inner, err := f(p)
		if err != nil {
			return nil, err
		}
		return &l1Model{inner: inner, net: n, pop: p.Index, off: int32(p.Offset)}, nil
	}
}

func (w *l1Model) Prepare(dt float64) error { return w.inner.Prepare(dt) }

func (w *l1Model) Reset() {
	w.inner.Reset()
	w.segs.Range(func(k, _ any) bool { w.segs.Delete(k); return true })
	w.net.reset() // the engine resets its models one after the other
}

func (w *l1Model) Cost() float64 {
	if c, ok := w.inner.(engine.Coster); ok {
		return c.Cost()
	}
	return 1
}

// mergerState is one segment's copy of the state of the mergers its
// neurons use: each segment works it out from the same spikes.
type mergerState struct {
	mergers []int32         // the mergers, each once
	busy    [][]float64     // departure times of the events in each buffer
	pass    []uint64        // which members passed in step `step`
	at      map[int32]int32 // merger -> position in mergers
	step    int64
}

func (w *l1Model) state(lo, hi int) *mergerState {
	if s, ok := w.segs.Load(lo); ok {
		return s.(*mergerState)
	}
	s := &mergerState{at: map[int32]int32{}, step: -1}
	for i := lo; i < hi; i++ {
		g := w.net.of[w.pop][i].merger
		if _, ok := s.at[g]; !ok {
			s.at[g] = int32(len(s.mergers))
			s.mergers = append(s.mergers, g)
		}
	}
	s.busy = make([][]float64, len(s.mergers))
	for k := range s.busy {
		s.busy[k] = make([]float64, 0, l1Buffer)
	}
	s.pass = make([]uint64, len(s.mergers))
	w.segs.Store(lo, s)
	return s
}

// advance lets every merger of the segment take its spikes of step n.
func (s *mergerState) advance(net *l1Net, n int64) {
	par := n & 1
	t := float64(n) * net.dt
	for k, g := range s.mergers {
		s.pass[k] = 0
		for j, mem := range net.members[g] {
			if !net.fired[mem[0]][par][mem[1]] {
				continue
			}
			b := s.busy[k]
			q := 0
			for q < len(b) && b[q] <= t {
				q++
			}
			b = append(b[:0], b[q:]...)
			if len(b) >= l1Buffer {
				s.busy[k] = b
				continue // lost on L1
			}
			start := t
			if len(b) > 0 && b[len(b)-1] > start {
				start = b[len(b)-1]
			}
			s.busy[k] = append(b, start+net.serve)
			s.pass[k] |= 1 << uint(j)
		}
	}
	s.step = n
}

func (w *l1Model) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	net := w.net
	if n > 0 {
		prev := net.fired[w.pop][(n-1)&1]
		s := w.state(lo, hi)
		if s.step != n-1 {
			s.advance(net, n-1)
		}
		for i := lo; i < hi; i++ {
			if !prev[i] {
				continue
			}
			sl := net.of[w.pop][i]
			if s.pass[s.at[sl.merger]]&(1<<uint(sl.pos)) != 0 {
				out.Add(i)
			} else {
				net.lost.Add(1)
			}
		}
	}
	before := len(out.IDs)
	w.inner.Step(n, lo, hi, in, out)
	cur := net.fired[w.pop][n&1]
	clear(cur[lo:hi])
	for _, g := range out.IDs[before:] {
		cur[g-w.off] = true
	}
	out.IDs = out.IDs[:before]
}
