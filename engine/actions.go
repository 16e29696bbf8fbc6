package engine

import (
	"context"
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
)

// Apply performs one action of a run schedule. Run actions call Run with
// progress; the others change the network between runs.
func (s *Simulator) Apply(ctx context.Context, a *network.Action, progress Progress) error {
	switch {
	case a.Run != nil:
		return s.Run(ctx, *a.Run, progress)
	case a.Reset:
		s.Reset()
	case a.Set != nil:
		return s.set(a.Set)
	case a.SetSynapses != nil:
		return s.setSynapses(a.SetSynapses)
	case a.SetCurrentSource != nil:
		return s.setCurrentSource(a.SetCurrentSource)
	case a.Record != nil:
		return s.recs.replace(a.Record)
	}
	return nil
}

func (s *Simulator) set(a *network.SetAction) error {
	// The values are given in selection order; walk the selection.
	pos := 0
	for _, part := range a.Selection {
		p := s.pops[part.Population]
		locals := p.locals(part)
		for _, name := range sortedNames(a.Parameters) {
			v := a.Parameters[name]
			pd := p.Type.Param(name)
			if pd.Kind == network.Sequence {
				seqs := p.Seqs[name]
				for k, j := range locals {
					if v.Kind == network.KindRagged {
						seqs[j] = v.Seq(pos + k)
					} else {
						seqs[j] = v.Seq(0)
					}
				}
				continue
			}
			setValues(p.Params[name], locals, &v, pos, rng.Derive(s.desc.Simulation.Seed, domainParam, uint64(p.Index), nameKey("set:"+name), uint64(s.step)))
		}
		for _, name := range sortedNames(a.InitialValues) {
			v := a.InitialValues[name]
			setValues(p.Initial[name], locals, &v, pos, rng.Derive(s.desc.Simulation.Seed, domainParam, uint64(p.Index), nameKey("init-set:"+name), uint64(s.step)))
			if s.step == 0 {
				// At t = 0 the new initial value is also the current state.
				setValues(p.State[name], locals, &v, pos, rng.Derive(s.desc.Simulation.Seed, domainParam, uint64(p.Index), nameKey("init-set:"+name), uint64(s.step)))
			}
		}
		for _, name := range sortedNames(a.State) {
			v := a.State[name]
			setValues(p.State[name], locals, &v, pos, rng.Derive(s.desc.Simulation.Seed, domainParam, uint64(p.Index), nameKey("state-set:"+name), uint64(s.step)))
		}
		if len(a.Parameters) > 0 {
			if err := p.model.Prepare(s.dt); err != nil {
				return fmt.Errorf("%s: %w", s.desc.PopName(p.Index), err)
			}
		}
		pos += len(locals)
	}
	if s.gaps != nil && (len(a.State) > 0 || len(a.InitialValues) > 0) {
		s.gaps.reset()
	}
	return nil
}

// setValues writes v (given for a selection from position pos on) into dst
// at the local indices.
func setValues(dst []float64, locals []int, v *network.Value, pos int, seed uint64) {
	switch v.Kind {
	case network.KindScalar:
		for _, j := range locals {
			dst[j] = v.Scalar
		}
	case network.KindArray:
		xs := v.Array.Float64s()
		for k, j := range locals {
			if len(xs) == 1 {
				dst[j] = xs[0]
			} else {
				dst[j] = xs[pos+k]
			}
		}
	case network.KindRandom:
		r := rng.New(seed)
		for _, j := range locals {
			dst[j] = v.Dist.Draw(&r)
		}
	}
}

func sortedNames(m map[string]network.Value) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

func (s *Simulator) setCurrentSource(a *network.SetCurrentSourceAction) error {
	for _, c := range s.currs {
		if c.index == a.Source {
			return c.setParams(s.cat.CurrentSources[c.typ], a.Parameters)
		}
	}
	return fmt.Errorf("there is no current source %d", a.Source)
}

// projection returns the run-time projection of description index i.
func (s *Simulator) projection(i int) (*projRT, error) {
	for _, pj := range s.projs {
		if pj.index == i {
			return pj, nil
		}
	}
	if s.gaps != nil {
		for _, gp := range s.gaps.proj {
			if gp.index == i {
				return nil, nil
			}
		}
	}
	return nil, fmt.Errorf("there is no projection %d", i)
}

// eachSynapse calls fn for every synapse of pj in connection order: rows by
// presynaptic neuron, within a row by postsynaptic neuron. The order is the
// same for any thread count.
func (pj *projRT) eachSynapse(fn func(part *csr, k int64, row int)) {
	for r := 0; r < pj.nrows; r++ {
		for _, c := range pj.parts {
			for k := c.rowPtr[r]; k < c.rowPtr[r+1]; k++ {
				fn(c, k, r)
			}
		}
	}
}

// Connections returns the connections of projection i in connection order,
// as positions in its pre and post selections.
func (s *Simulator) Connections(i int) (pre, post []int32, err error) {
	pj, err := s.projection(i)
	if err != nil {
		return nil, nil, err
	}
	if pj == nil {
		return s.gapConnections(i)
	}
	prePos := inverse(pj.pre, s.n)
	postPos := inverse(pj.post, s.n)
	pre = make([]int32, 0, pj.n)
	post = make([]int32, 0, pj.n)
	pj.eachSynapse(func(c *csr, k int64, r int) {
		pre = append(pre, prePos[int(pj.preLo)+r])
		post = append(post, postPos[c.target[k]])
	})
	return pre, post, nil
}

func (s *Simulator) gapConnections(i int) (pre, post []int32, err error) {
	gj := s.gaps
	pr := &s.desc.Projections[i]
	preSel, _ := s.selection(pr.Pre)
	postSel, _ := s.selection(pr.Post)
	prePos, postPos := inverse(preSel, s.n), inverse(postSel, s.n)
	for _, gp := range gj.proj {
		if gp.index != i {
			continue
		}
		for _, e := range gp.entry {
			pre = append(pre, prePos[gj.from[e]])
			post = append(post, postPos[gj.recv[e]])
		}
	}
	return pre, post, nil
}

func inverse(sel []int32, n int) []int32 {
	inv := make([]int32, n)
	for i := range inv {
		inv[i] = -1
	}
	for k, g := range sel {
		inv[g] = int32(k)
	}
	return inv
}

// SynapseValues returns a parameter of every connection of projection i, in
// connection order: weight (the current, possibly plastic, value), delay in
// ms, or another parameter of the synapse type.
func (s *Simulator) SynapseValues(i int, name string) ([]float64, error) {
	pj, err := s.projection(i)
	if err != nil {
		return nil, err
	}
	if pj == nil {
		if name != "weight" {
			return nil, fmt.Errorf("electrical synapses have only a weight")
		}
		var out []float64
		for _, gp := range s.gaps.proj {
			if gp.index == i {
				for _, e := range gp.entry {
					out = append(out, s.gaps.w[e])
				}
			}
		}
		return out, nil
	}
	if g, ok := pj.dyn.(synapseGetter); ok {
		if vals, ok := g.values(pj, name); ok {
			return vals, nil
		}
	}
	out := make([]float64, 0, pj.n)
	switch {
	case name == "weight":
		pj.eachSynapse(func(c *csr, k int64, _ int) { out = append(out, float64(c.weight[k])) })
	case name == "delay":
		pj.eachSynapse(func(c *csr, k int64, _ int) { out = append(out, float64(c.delayAt(k))*s.dt) })
	case pj.typ.Param(name) != nil:
		if pj.parts[0].extra != nil {
			if _, ok := pj.parts[0].extra[name]; ok {
				pj.eachSynapse(func(c *csr, k int64, _ int) { out = append(out, c.extra[name][k]) })
				return out, nil
			}
		}
		v := synParam(pj.desc, pj.typ, name)
		for k := 0; k < pj.n; k++ {
			out = append(out, v)
		}
	default:
		return nil, fmt.Errorf("%s has no parameter %q", pj.typ.Name, name)
	}
	return out, nil
}

// synapseGetter is implemented by dynamics whose state (plastic weights,
// u of Tsodyks-Markram) overrides the stored values.
type synapseGetter interface {
	values(pj *projRT, name string) ([]float64, bool)
}

// synapseSetter is implemented by dynamics that keep per-synapse values.
type synapseSetter interface {
	setValues(pj *projRT, name string, vals []float64) (bool, error)
}

func (s *Simulator) setSynapses(a *network.SetSynapsesAction) error {
	for _, name := range sortedNames(a.Parameters) {
		v := a.Parameters[name]
		if err := s.SetSynapseValues(a.Projection, name, &v); err != nil {
			return fmt.Errorf("%s: %w", s.desc.ProjName(a.Projection), err)
		}
	}
	return nil
}

// SetSynapseValues sets a parameter of every connection of projection i:
// one value for all, or one per connection in connection order.
func (s *Simulator) SetSynapseValues(i int, name string, v *network.Value) error {
	pj, err := s.projection(i)
	if err != nil {
		return err
	}
	n := 0
	if pj != nil {
		n = pj.n
	} else {
		for _, gp := range s.gaps.proj {
			if gp.index == i {
				n = len(gp.entry)
			}
		}
	}
	vals := make([]float64, n)
	switch v.Kind {
	case network.KindScalar:
		for k := range vals {
			vals[k] = v.Scalar
		}
	case network.KindArray:
		xs := v.Array.Float64s()
		if len(xs) == 1 {
			for k := range vals {
				vals[k] = xs[0]
			}
		} else if len(xs) != n {
			return fmt.Errorf("%d values of %s for %d connections", len(xs), name, n)
		} else {
			copy(vals, xs)
		}
	case network.KindRandom:
		if err := v.Dist.Check(); err != nil {
			return err
		}
		r := rng.New(rng.Derive(s.desc.Simulation.Seed, domainSynapse, uint64(i), nameKey(name), uint64(s.step)))
		for k := range vals {
			vals[k] = v.Dist.Draw(&r)
		}
	default:
		return fmt.Errorf("%s: expected a number or an array", name)
	}
	for k, x := range vals {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s of connection %d is not a finite number", name, k)
		}
	}
	if pj == nil {
		if name != "weight" {
			return fmt.Errorf("electrical synapses have only a weight")
		}
		for _, gp := range s.gaps.proj {
			if gp.index == i {
				for k, e := range gp.entry {
					// Both directions of the junction carry the weight.
					s.gaps.w[e] = vals[k]
					s.gaps.setReverse(e, vals[k])
				}
			}
		}
		return nil
	}
	if st, ok := pj.dyn.(synapseSetter); ok {
		done, err := st.setValues(pj, name, vals)
		if err != nil || done {
			return err
		}
	}
	k := 0
	switch {
	case name == "weight":
		pj.eachSynapse(func(c *csr, j int64, _ int) { c.weight[j] = float32(vals[k]); k++ })
	case name == "delay":
		maxSteps := 0
		for _, x := range vals {
			if x < s.dt*(1-1e-9) {
				return fmt.Errorf("delay %g ms is below the timestep %g ms", x, s.dt)
			}
			maxSteps = max(maxSteps, delaySteps(x, s.dt))
		}
		if maxSteps > maxDelaySteps {
			return fmt.Errorf("delay %g ms is above the maximum %g ms", float64(maxSteps)*s.dt, float64(maxDelaySteps)*s.dt)
		}
		if int64(maxSteps) >= s.slots {
			s.growRing(int64(maxSteps) + 1)
		}
		for _, c := range pj.parts {
			if c.delay == nil {
				c.delay = make([]uint16, c.len())
			}
		}
		pj.eachSynapse(func(c *csr, j int64, _ int) { c.delay[j] = uint16(delaySteps(vals[k], s.dt)); k++ })
	default:
		if pj.typ.Param(name) == nil {
			return fmt.Errorf("%s has no parameter %q", pj.typ.Name, name)
		}
		for _, c := range pj.parts {
			if c.extra == nil {
				c.extra = map[string][]float64{}
			}
			if _, ok := c.extra[name]; !ok {
				c.extra[name] = make([]float64, c.len())
			}
		}
		pj.eachSynapse(func(c *csr, j int64, _ int) { c.extra[name][j] = vals[k]; k++ })
	}
	return nil
}

// growRing makes room for longer delays, keeping the pending arrivals.
func (s *Simulator) growRing(slots int64) {
	for c := range s.ring {
		old := s.ring[c]
		nw := make([]float64, int(slots)*s.n)
		for m := int64(0); m < s.slots; m++ {
			// Arrival stamp a sits in slot a % slots; pending stamps are
			// step+1 .. step+old slots.
			a := s.step + 1 + m
			copy(nw[int(a%slots)*s.n:], old[int(a%s.slots)*s.n:int(a%s.slots+1)*s.n])
		}
		s.ring[c] = nw
	}
	s.slots = slots
}

func (gj *gapJunctions) setReverse(e int, w float64) {
	a, b := gj.from[e], gj.recv[e]
	for i := range gj.recv {
		if gj.recv[i] == a && gj.from[i] == b && i != e {
			gj.w[i] = w
			return
		}
	}
}

// StateOf returns the current values of a state variable of a population.
func (s *Simulator) StateOf(pop int, name string) ([]float64, error) {
	if pop < 0 || pop >= len(s.pops) {
		return nil, fmt.Errorf("there is no population %d", pop)
	}
	p := s.pops[pop]
	if xs, ok := p.State[name]; ok {
		return xs, nil
	}
	if xs, ok := p.Params[name]; ok {
		return xs, nil
	}
	return nil, fmt.Errorf("%s has no variable %q", p.Type.Name, name)
}
