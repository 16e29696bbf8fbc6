package engine

import (
	"fmt"
	"sort"

	"github.com/nmp-platform/nmp/network"
)

// recording keeps what is recorded: spikes by a mask over all neurons, and
// each state variable of each population by a mask and a sampling interval.
// A change of mask closes the variable's signal; the next sample opens a new
// one. Samples are taken at step boundaries that are multiples of the
// interval, counted from t = 0, each boundary at most once per segment.
type recording struct {
	s         *Simulator
	spikeMask []bool // global
	vars      []map[string]*varRec
	active    []*Signal // signals sampled in the current run
}

type varRec struct {
	pop      int
	variable string
	mask     []bool
	every    int64
	sig      *Signal
	// first and last planned sample boundaries of the current run.
	first, last int64
	rowBase     int
}

func newRecording(s *Simulator) *recording {
	r := &recording{s: s, spikeMask: make([]bool, s.n), vars: make([]map[string]*varRec, len(s.pops))}
	for i := range r.vars {
		r.vars[i] = map[string]*varRec{}
	}
	return r
}

// apply adds the request of rec to what is recorded.
func (r *recording) apply(rec *network.Recording) error { return r.set(rec, false) }

// replace makes the variables of rec the only ones recorded from its
// selection (an empty list stops all recording of it).
func (r *recording) replace(rec *network.Recording) error { return r.set(rec, true) }

func (r *recording) set(rec *network.Recording, replace bool) error {
	s := r.s
	every := int64(1)
	if rec.SamplingInterval > 0 {
		every = max(1, steps(rec.SamplingInterval, s.dt))
	}
	want := map[string]bool{}
	for _, v := range rec.Variables {
		want[v] = true
	}
	for _, part := range rec.Selection {
		p := s.pops[part.Population]
		locals := p.locals(part)
		vars := []string{}
		if replace {
			vars = append(vars, "spikes")
			for _, st := range p.Type.State {
				vars = append(vars, st.Name)
			}
		} else {
			vars = rec.Variables
		}
		for _, v := range vars {
			on := want[v]
			if v == "spikes" {
				for _, j := range locals {
					r.spikeMask[p.Offset+j] = on
				}
				continue
			}
			if _, ok := p.State[v]; !ok {
				if !on {
					continue
				}
				return fmt.Errorf("%s cannot record %q", p.Type.Name, v)
			}
			vr := r.vars[part.Population][v]
			if vr == nil {
				if !on {
					continue
				}
				vr = &varRec{pop: part.Population, variable: v, mask: make([]bool, p.Size)}
				r.vars[part.Population][v] = vr
			}
			changed := vr.every != every && on
			for _, j := range locals {
				if vr.mask[j] != on {
					vr.mask[j] = on
					changed = true
				}
			}
			if on {
				vr.every = every
			}
			if changed && vr.sig != nil {
				vr.sig.closed = true
				vr.sig = nil
			}
		}
	}
	return nil
}

// noteRecorded adds the neurons whose spikes are recorded now to the
// segment's lists, so that a neuron recorded for part of a segment is listed.
func (r *recording) noteRecorded(seg *Segment) {
	for pi, p := range r.s.pops {
		ps := &seg.Spikes[pi]
		var add []int32
		for j := 0; j < p.Size; j++ {
			if r.spikeMask[p.Offset+j] {
				add = append(add, int32(j))
			}
		}
		if len(add) == 0 {
			continue
		}
		if len(ps.Recorded) == 0 {
			ps.Recorded = add
			continue
		}
		merged := append(append([]int32(nil), ps.Recorded...), add...)
		sort.Slice(merged, func(a, b int) bool { return merged[a] < merged[b] })
		out := merged[:1]
		for _, x := range merged[1:] {
			if x != out[len(out)-1] {
				out = append(out, x)
			}
		}
		ps.Recorded = out
	}
}

// beginRun plans the samples of a run from boundary m0 to m1 and takes the
// sample at m0 if it is due.
func (r *recording) beginRun(m0, m1 int64) {
	s := r.s
	r.active = r.active[:0]
	seg := s.segments[len(s.segments)-1]
	for pi, vars := range r.vars {
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, name := range names {
			vr := vars[name]
			if vr.sig == nil {
				idx := []int32{}
				for j, on := range vr.mask {
					if on {
						idx = append(idx, int32(j))
					}
				}
				if len(idx) == 0 {
					continue
				}
				p := s.pops[pi]
				units := ""
				if sd := p.Type.StateVar(name); sd != nil {
					units = sd.Units
				}
				sig := &Signal{Population: pi, Variable: name, Units: units, Indices: idx,
					Interval: float64(vr.every) * s.dt, every: vr.every, last: -1, src: p.State[name]}
				sig.ranges = make([][2]int, s.threads)
				for k := 0; k < s.threads; k++ {
					lo := int32(s.bounds[k] - p.Offset)
					hi := int32(s.bounds[k+1] - p.Offset)
					a := sort.Search(len(idx), func(i int) bool { return idx[i] >= lo })
					b := sort.Search(len(idx), func(i int) bool { return idx[i] >= hi })
					sig.ranges[k] = [2]int{a, b}
				}
				vr.sig = sig
				seg.Signals = append(seg.Signals, sig)
			}
			sig := vr.sig
			f := m0
			if sig.last >= f {
				f = sig.last + 1
			}
			if rem := f % vr.every; rem != 0 {
				f += vr.every - rem
			}
			if f > m1 {
				continue
			}
			count := (m1-f)/vr.every + 1
			if sig.Samples() == 0 {
				sig.TStart = float64(f) * s.dt
			}
			vr.first, vr.last = f, f+(count-1)*vr.every
			vr.rowBase = sig.Samples()
			sig.Data = append(sig.Data, make([]float64, int(count)*len(sig.Indices))...)
			r.active = append(r.active, sig)
			if f == m0 {
				for j, i := range sig.Indices {
					sig.Data[vr.rowBase*len(sig.Indices)+j] = sig.src[i]
				}
			}
		}
	}
}

// varRecOf finds the varRec that owns sig.
func (r *recording) varRecOf(sig *Signal) *varRec { return r.vars[sig.Population][sig.Variable] }

// sample records, for thread t at boundary m, its spikes and its share of
// the due signal samples.
func (r *recording) sample(t *threadState, m int64, ids []int32) {
	for _, g := range ids {
		if r.spikeMask[g] {
			t.recStamp = append(t.recStamp, m)
			t.recID = append(t.recID, g)
		}
	}
	for _, sig := range r.active {
		vr := r.varRecOf(sig)
		if m < vr.first || m > vr.last || (m-vr.first)%vr.every != 0 {
			continue
		}
		row := vr.rowBase + int((m-vr.first)/vr.every)
		ncol := len(sig.Indices)
		rg := sig.ranges[t.k]
		data := sig.Data[row*ncol : (row+1)*ncol]
		for j := rg[0]; j < rg[1]; j++ {
			data[j] = sig.src[sig.Indices[j]]
		}
	}
}

// endRun trims samples not taken (a cancelled run) and notes the last.
func (r *recording) endRun(m int64) {
	for _, sig := range r.active {
		vr := r.varRecOf(sig)
		last := min(vr.last, m)
		if last < vr.first {
			sig.Data = sig.Data[:vr.rowBase*len(sig.Indices)]
			continue
		}
		taken := int((last-vr.first)/vr.every) + 1
		sig.Data = sig.Data[:(vr.rowBase+taken)*len(sig.Indices)]
		sig.last = vr.first + int64(taken-1)*vr.every
	}
	r.active = r.active[:0]
}

// newSegment closes all signals at a reset; recording continues into the
// next segment with the same masks.
func (r *recording) newSegment() {
	for _, vars := range r.vars {
		for _, vr := range vars {
			if vr.sig != nil {
				vr.sig.closed = true
				vr.sig = nil
			}
		}
	}
}

// detach gives the fresh segment the open signals, emptied, after the
// results were taken: the old segment keeps copies holding their data.
func (r *recording) detach(old, fresh *Segment) {
	for i, sig := range old.Signals {
		if sig.closed {
			continue
		}
		cp := *sig
		cp.closed = true
		old.Signals[i] = &cp
		sig.Data = nil
		fresh.Signals = append(fresh.Signals, sig)
	}
}
