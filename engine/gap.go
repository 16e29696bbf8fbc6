package engine

import (
	"fmt"
	"sort"
)

// Electrical synapses (gap junctions). Each connection of weight g (uS)
// couples two membranes both ways: the current into a neuron is
// g * (V_other - V_self) in nA, computed from the potentials at the start of
// the step. This explicit coupling is accurate while g*dt/c_m is small; NEST
// iterates within the step (waveform relaxation) instead.

type gapJunctions struct {
	s *Simulator
	// directed entries, sorted by receiver: recv gets w*(v[from]-v[recv]).
	recv, from []int32
	w          []float64
	ranges     [][2]int
	// snapshots of V by parity, global index; NaN where not coupled.
	snap [2][]float64
	// vOf maps a global neuron to its population's v slice.
	v     [][]float64
	local []int32
	// pairs in connection order, per projection, for reading back.
	proj []gapProj
}

type gapProj struct {
	index int
	entry []int // index into w of the forward entry of each connection, in connection order
}

func (s *Simulator) buildGap(pi int, pre, post []int32) error {
	d := s.desc
	pr := &d.Projections[pi]
	for _, g := range append(append([]int32(nil), pre...), post...) {
		pop, _ := s.locate(g)
		if _, ok := s.pops[pop].State["v"]; !ok {
			return fmt.Errorf("%s: %s has no membrane potential to couple", d.ProjName(pi), s.pops[pop].Type.Name)
		}
	}
	sv, err := s.synValues(pr, s.cat.Synapses[pr.Synapse.Type])
	if err != nil {
		return fmt.Errorf("%s: %w", d.ProjName(pi), err)
	}
	sv.hetDelay = false
	whole, err := buildConnections(d, pi, pre, post, sv, s.threads)
	if err != nil {
		return fmt.Errorf("%s: %w", d.ProjName(pi), err)
	}
	if s.gaps == nil {
		s.gaps = &gapJunctions{s: s, v: make([][]float64, s.n), local: make([]int32, s.n)}
		for _, p := range s.pops {
			if v, ok := p.State["v"]; ok {
				for j := 0; j < p.Size; j++ {
					s.gaps.v[p.Offset+j] = v
					s.gaps.local[p.Offset+j] = int32(j)
				}
			}
		}
	}
	gj := s.gaps
	gp := gapProj{index: pi}
	for r := 0; r < whole.rows(); r++ {
		a := int32(r) + whole.preLo
		for k := whole.rowPtr[r]; k < whole.rowPtr[r+1]; k++ {
			b := int32(whole.target[k])
			w := float64(whole.weight[k])
			gp.entry = append(gp.entry, len(gj.w))
			gj.recv = append(gj.recv, b, a)
			gj.from = append(gj.from, a, b)
			gj.w = append(gj.w, w, w)
		}
	}
	gj.proj = append(gj.proj, gp)
	for _, g := range gj.recv {
		pop, _ := s.locate(g)
		if s.pops[pop].gap == nil {
			s.pops[pop].gap = make([]float64, s.pops[pop].Size)
		}
	}
	gj.sort()
	return nil
}

// sort orders the entries by receiver, stable, and computes thread ranges.
func (gj *gapJunctions) sort() {
	s := gj.s
	idx := make([]int, len(gj.recv))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return gj.recv[idx[a]] < gj.recv[idx[b]] })
	inv := make([]int, len(idx))
	recv, from, w := make([]int32, len(idx)), make([]int32, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		recv[i], from[i], w[i] = gj.recv[j], gj.from[j], gj.w[j]
		inv[j] = i
	}
	gj.recv, gj.from, gj.w = recv, from, w
	for p := range gj.proj {
		for k, e := range gj.proj[p].entry {
			gj.proj[p].entry[k] = inv[e]
		}
	}
	gj.ranges = make([][2]int, s.threads)
	for k := 0; k < s.threads; k++ {
		a := sort.Search(len(recv), func(i int) bool { return int(recv[i]) >= s.bounds[k] })
		b := sort.Search(len(recv), func(i int) bool { return int(recv[i]) >= s.bounds[k+1] })
		gj.ranges[k] = [2]int{a, b}
	}
	gj.snap[0] = make([]float64, s.n)
	gj.snap[1] = make([]float64, s.n)
	gj.reset()
}

func (gj *gapJunctions) reset() {
	for par := range gj.snap {
		for g := range gj.snap[par] {
			if v := gj.v[g]; v != nil {
				gj.snap[par][g] = v[gj.local[g]]
			}
		}
	}
}

// compute fills the gap currents of thread t's neurons for step n from the
// snapshot of the potentials at boundary n.
func (gj *gapJunctions) compute(t *threadState, n int64) {
	s := gj.s
	for _, p := range s.pops {
		if p.gap == nil {
			continue
		}
		lo := max(t.lo, p.Offset) - p.Offset
		hi := min(t.hi, p.Offset+p.Size) - p.Offset
		if lo < hi {
			clear(p.gap[lo:hi])
		}
	}
	snap := gj.snap[n&1]
	rg := gj.ranges[t.k]
	for i := rg[0]; i < rg[1]; i++ {
		r := gj.recv[i]
		pop, local := s.locate(r)
		s.pops[pop].gap[local] += gj.w[i] * (snap[gj.from[i]] - snap[r])
	}
}

// snapshot stores the potentials of thread t's neurons at boundary m.
func (gj *gapJunctions) snapshot(t *threadState, m int64) {
	snap := gj.snap[m&1]
	for g := t.lo; g < t.hi; g++ {
		if v := gj.v[g]; v != nil {
			snap[g] = v[gj.local[g]]
		}
	}
}
