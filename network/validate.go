package network

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Problem is one thing wrong with a description, at a path such as
// `populations[0] "exc".parameters.tau_m`.
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// ValidationError lists what is wrong with a description.
type ValidationError struct {
	Problems []Problem
	// More counts problems beyond the ones listed.
	More int
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 && e.More == 0 {
		return "invalid network description: " + e.Problems[0].String()
	}
	fmt.Fprintf(&b, "invalid network description (%d problems):", len(e.Problems)+e.More)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", e.More)
	}
	return b.String()
}

// maxProblems bounds the problems a ValidationError lists.
const maxProblems = 20

type validator struct {
	d    *Description
	cat  *Catalog
	errs ValidationError
}

func (v *validator) addf(path, format string, args ...any) {
	if len(v.errs.Problems) >= maxProblems {
		v.errs.More++
		return
	}
	v.errs.Problems = append(v.errs.Problems, Problem{path, fmt.Sprintf(format, args...)})
}

// Limits bound what Validate accepts.
type Limits struct {
	// MaxBytes bounds the memory the simulation would need (0: half of what
	// the machine has available).
	MaxBytes int64
}

// Validate checks d against the catalog's models and the limits, and returns
// a *ValidationError naming every problem (up to a bound), or nil. It does
// not modify d.
func Validate(d *Description, cat *Catalog, lim Limits) error {
	v := &validator{d: d, cat: cat}
	v.check(lim)
	if len(v.errs.Problems) > 0 {
		return &v.errs
	}
	return nil
}

// PopName names a population for messages: `populations[2] "exc"`.
func (d *Description) PopName(i int) string {
	if i < 0 || i >= len(d.Populations) {
		return fmt.Sprintf("populations[%d]", i)
	}
	if l := d.Populations[i].Label; l != "" {
		return fmt.Sprintf("populations[%d] %q", i, l)
	}
	return fmt.Sprintf("populations[%d]", i)
}

// ProjName names a projection for messages.
func (d *Description) ProjName(i int) string {
	if i < 0 || i >= len(d.Projections) {
		return fmt.Sprintf("projections[%d]", i)
	}
	if l := d.Projections[i].Label; l != "" {
		return fmt.Sprintf("projections[%d] %q", i, l)
	}
	return fmt.Sprintf("projections[%d]", i)
}

func (v *validator) check(lim Limits) {
	d := v.d
	if d.Format != FormatName {
		v.addf("format", "is %q, expected %q", d.Format, FormatName)
	}
	if d.Version != FormatVersion {
		v.addf("version", "is %d; this nmp reads version %d", d.Version, FormatVersion)
	}
	s := d.Simulation
	dt := s.Timestep
	if !(dt > 0) || math.IsInf(dt, 0) {
		v.addf("simulation.timestep", "must be a positive number of ms, got %g", dt)
		dt = 0
	}
	if s.MinDelay != 0 && (s.MinDelay < 0 || (dt > 0 && s.MinDelay < dt*(1-1e-9))) {
		v.addf("simulation.min_delay", "%g ms is below the timestep %g ms", s.MinDelay, dt)
	}
	if s.MaxDelay != 0 && s.MaxDelay < math.Max(s.MinDelay, dt) {
		v.addf("simulation.max_delay", "%g ms is below the minimum delay", s.MaxDelay)
	}
	if s.Threads < 0 {
		v.addf("simulation.threads", "must not be negative")
	}
	if len(d.Populations) == 0 {
		v.addf("populations", "the network has no populations")
	}
	for i := range d.Populations {
		v.population(i)
	}
	for i := range d.Projections {
		v.projection(i, dt)
	}
	for i := range d.CurrentSources {
		v.currentSource(i)
	}
	for i, r := range d.Recordings {
		v.recording(fmt.Sprintf("recordings[%d]", i), &r, dt)
	}
	v.schedule(dt)
	if len(v.errs.Problems) == 0 {
		v.memory(lim)
	}
}

func (v *validator) population(i int) {
	p := &v.d.Populations[i]
	name := v.d.PopName(i)
	if p.Size <= 0 {
		v.addf(name+".size", "must be at least 1, got %d", p.Size)
		return
	}
	if p.Size > math.MaxInt32 {
		v.addf(name+".size", "%d neurons is more than one population can hold (%d)", p.Size, math.MaxInt32)
		return
	}
	ct, ok := v.cat.Cells[p.CellType]
	if !ok {
		v.addf(name+".cell_type", "unknown cell type %q (known: %s)", p.CellType, strings.Join(v.cat.CellNames(), ", "))
		return
	}
	v.values(name+".parameters", p.Parameters, ct.Params, p.Size, "parameter")
	v.values(name+".initial_values", p.InitialValues, ct.State, p.Size, "state variable")
}

// values checks a map of values against parameter descriptions, for n elements.
func (v *validator) values(path string, m map[string]Value, params []Param, n int, what string) {
	for _, k := range sortedKeys(m) {
		val := m[k]
		pd := findParam(params, k)
		if pd == nil {
			known := make([]string, len(params))
			for j := range params {
				known[j] = params[j].Name
			}
			if len(known) == 0 {
				v.addf(path+"."+k, "unknown %s: this model has none", what)
			} else {
				v.addf(path+"."+k, "unknown %s (known: %s)", what, strings.Join(known, ", "))
			}
			continue
		}
		v.value(path+"."+k, &val, pd, n)
	}
}

// value checks one value of parameter pd for n elements.
func (v *validator) value(path string, val *Value, pd *Param, n int) {
	switch val.Kind {
	case KindNone:
		return
	case KindRandom:
		if pd.Kind == Sequence {
			v.addf(path, "a sequence parameter cannot be drawn from a distribution")
		} else if err := val.Dist.Check(); err != nil {
			v.addf(path, "%v", err)
		}
		return
	case KindScalar:
		if pd.Kind == Sequence {
			// A single number is a sequence of one, for everyone.
			if r := pd.Check(val.Scalar); r != "" {
				v.addf(path, "%s, got %g", r, val.Scalar)
			}
			return
		}
		if r := pd.Check(val.Scalar); r != "" {
			v.addf(path, "%s, got %g", r, val.Scalar)
		}
		return
	case KindArray:
		xs := val.Array.Float64s()
		if pd.Kind == Number {
			// n < 0: the number of elements is not known here (the
			// connections of a projection, counted when it is built).
			if n >= 0 && len(xs) != n && len(xs) != 1 {
				v.addf(path, "has %d values for %d elements", len(xs), n)
				return
			}
		}
		for j, x := range xs {
			if r := pd.Check(x); r != "" {
				v.addf(path, "%s, got %g at index %d", r, x, j)
				return
			}
		}
	case KindRagged:
		if pd.Kind != Sequence {
			v.addf(path, "is a list of sequences, but %s takes one number per element", pd.Name)
			return
		}
		offs, bad, ok := val.Offsets.Int64s()
		if !ok {
			v.addf(path, "ragged offsets must be whole numbers (index %d is not)", bad)
			return
		}
		if len(offs) != n+1 {
			v.addf(path, "has %d sequences for %d elements", len(offs)-1, n)
			return
		}
		total := int64(val.Array.Len())
		if offs[0] != 0 || offs[n] != total {
			v.addf(path, "ragged offsets must start at 0 and end at %d, the number of values", total)
			return
		}
		for j := 1; j <= n; j++ {
			if offs[j] < offs[j-1] {
				v.addf(path, "ragged offsets decrease at index %d", j)
				return
			}
		}
		for j, x := range val.Array.Float64s() {
			if r := pd.Check(x); r != "" {
				v.addf(path, "%s, got %g at value %d", r, x, j)
				return
			}
		}
	}
}

// selection checks a selection and returns its size (0 if invalid) and the
// cell types of its populations.
func (v *validator) selection(path string, s Selection) (int, []*CellType) {
	if len(s) == 0 {
		v.addf(path, "selects no population")
		return 0, nil
	}
	total := 0
	var types []*CellType
	for k, part := range s {
		pp := fmt.Sprintf("%s[%d]", path, k)
		if part.Population < 0 || part.Population >= len(v.d.Populations) {
			v.addf(pp+".population", "there is no population %d (the network has %d)", part.Population, len(v.d.Populations))
			return 0, nil
		}
		pop := &v.d.Populations[part.Population]
		if ct := v.cat.Cells[pop.CellType]; ct != nil {
			types = append(types, ct)
		}
		if part.Indices == nil {
			total += pop.Size
			continue
		}
		ix := part.Indices
		if ix.Kind != KindArray {
			v.addf(pp+".indices", "must be a list of neuron indices")
			return 0, nil
		}
		xs, bad, ok := ix.Array.Int64s()
		if !ok {
			v.addf(pp+".indices", "index %d is not a whole number", bad)
			return 0, nil
		}
		seen := make(map[int64]bool, len(xs))
		for j, x := range xs {
			if x < 0 || x >= int64(pop.Size) {
				v.addf(pp+".indices", "index %d at position %d is out of bounds for %s of size %d", x, j, v.d.PopName(part.Population), pop.Size)
				return 0, nil
			}
			if seen[x] {
				v.addf(pp+".indices", "neuron %d is selected twice", x)
				return 0, nil
			}
			seen[x] = true
		}
		total += len(xs)
	}
	return total, types
}

func (v *validator) projection(i int, dt float64) {
	pr := &v.d.Projections[i]
	name := v.d.ProjName(i)
	nPre, preTypes := v.selection(name+".pre", pr.Pre)
	nPost, postTypes := v.selection(name+".post", pr.Post)
	st, ok := v.cat.Synapses[pr.Synapse.Type]
	if !ok {
		v.addf(name+".synapse.type", "unknown synapse type %q (known: %s)", pr.Synapse.Type, strings.Join(v.cat.SynapseNames(), ", "))
		return
	}
	receptor := pr.ReceptorType
	if receptor == "" {
		receptor = "excitatory"
	}
	condBased, currBased := false, false
	for _, ct := range postTypes {
		if ct.Source {
			v.addf(name+".post", "%s is a spike source and cannot receive connections", ct.Name)
			return
		}
		if !st.Electrical && !ct.HasReceptor(receptor) {
			v.addf(name+".receptor_type", "%s has no receptor %q (it has: %s)", ct.Name, receptor, strings.Join(ct.Receptors, ", "))
			return
		}
		if ct.ConductanceBased {
			condBased = true
		} else {
			currBased = true
		}
	}
	if st.Electrical {
		for _, ct := range preTypes {
			if ct.Source {
				v.addf(name+".pre", "%s is a spike source: electrical synapses need a membrane potential on both sides", ct.Name)
				return
			}
		}
	}
	v.values(name+".synapse.parameters", pr.Synapse.Parameters, st.Params, 1, "synapse parameter")
	if st.Composite {
		v.component(name+".synapse.timing_dependence", pr.Synapse.TimingDependence, v.cat.TimingRules)
		v.component(name+".synapse.weight_dependence", pr.Synapse.WeightDependence, v.cat.WeightRules)
	} else if pr.Synapse.TimingDependence != nil || pr.Synapse.WeightDependence != nil {
		v.addf(name+".synapse", "%s takes no timing or weight dependence", st.Name)
	}
	switch {
	case pr.Connector == nil && pr.Connections == nil:
		v.addf(name, "needs a connector or a connection list")
		return
	case pr.Connector != nil && pr.Connections != nil:
		v.addf(name, "has both a connector and a connection list; give one")
		return
	}
	if nPre == 0 || nPost == 0 {
		return
	}
	nConn := -1
	if c := pr.Connector; c != nil {
		v.connector(name+".connector", c, nPre, nPost)
	} else {
		nConn = v.connections(name+".connections", pr.Connections, nPre, nPost, st)
	}
	// Weights and delays, wherever they come from.
	check := func(path string, val *Value, n int) {
		if val == nil || !val.IsSet() {
			return
		}
		if val.Kind == KindArray && n >= 0 && val.Array.Len() != n && val.Array.Len() != 1 {
			v.addf(path, "has %d values for %d connections", val.Array.Len(), n)
		}
	}
	w, wok := pr.Synapse.Parameters["weight"]
	d, dok := pr.Synapse.Parameters["delay"]
	if pr.Connections != nil {
		if cw, ok := pr.Connections.Parameters["weight"]; ok {
			w, wok = cw, true
		}
		if cd, ok := pr.Connections.Parameters["delay"]; ok {
			d, dok = cd, true
		}
	}
	if wok {
		check(name+".weight", &w, nConn)
		if !st.Electrical {
			v.weightSigns(name, &w, receptor, condBased, currBased)
		}
	}
	if dok && !st.Electrical {
		check(name+".delay", &d, nConn)
		v.delays(name+".delay", &d, dt)
	}
}

// synapseParams returns the parameters that set_synapses may change: the
// synapse type's, and for composite types those of its components (PyNN
// sets an STDP rule's parameters through the projection).
func (v *validator) synapseParams(pr *Projection, st *SynapseType) []Param {
	if !st.Composite {
		return st.Params
	}
	ps := append([]Param(nil), st.Params...)
	if c := pr.Synapse.TimingDependence; c != nil && v.cat.TimingRules[c.Type] != nil {
		ps = append(ps, v.cat.TimingRules[c.Type].Params...)
	}
	if c := pr.Synapse.WeightDependence; c != nil && v.cat.WeightRules[c.Type] != nil {
		ps = append(ps, v.cat.WeightRules[c.Type].Params...)
	}
	return ps
}

func (v *validator) component(path string, c *Component, types map[string]*ComponentType) {
	if c == nil {
		v.addf(path, "is required for STDPMechanism")
		return
	}
	ct, ok := types[c.Type]
	if !ok {
		v.addf(path+".type", "unknown type %q (known: %s)", c.Type, joinKeys(types))
		return
	}
	v.values(path+".parameters", c.Parameters, ct.Params, 1, "parameter")
}

// weightSigns applies PyNN's rule: positive weights for conductance-based or
// excitatory synapses, negative ones for current-based inhibitory synapses.
func (v *validator) weightSigns(name string, w *Value, receptor string, condBased, currBased bool) {
	var lo, hi float64
	switch w.Kind {
	case KindScalar:
		lo, hi = w.Scalar, w.Scalar
	case KindArray:
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, x := range w.Array.Float64s() {
			// Plain comparisons: math.Min and Max are calls, and NaN is
			// caught by the parameter check.
			if x < lo {
				lo = x
			}
			if x > hi {
				hi = x
			}
		}
	case KindRandom:
		return // checked as drawn
	default:
		return
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		if w.Kind == KindScalar || w.Array.Len() > 0 {
			v.addf(name+".weight", "weights must be finite numbers")
		}
		return
	}
	if condBased && currBased {
		return // mixed assembly: PyNN does not check either
	}
	if condBased || receptor == "excitatory" {
		if lo < 0 {
			v.addf(name+".weight", "weights must be positive for conductance-based and/or excitatory synapses (got %g)", lo)
		}
	} else if receptor == "inhibitory" && hi > 0 {
		v.addf(name+".weight", "weights must be negative for current-based, inhibitory synapses (got %g)", hi)
	}
}

func (v *validator) delays(path string, d *Value, dt float64) {
	if dt <= 0 {
		return
	}
	lo := math.Inf(1)
	switch d.Kind {
	case KindScalar:
		lo = d.Scalar
	case KindArray:
		for _, x := range d.Array.Float64s() {
			if x < lo {
				lo = x
			}
			if x != x || x > math.MaxFloat64 {
				v.addf(path, "delays must be finite numbers")
				return
			}
		}
	default:
		return
	}
	if d.Kind == KindArray && d.Array.Len() == 0 {
		return
	}
	if lo < dt*(1-1e-9) {
		v.addf(path, "delay %g ms is below the timestep %g ms", lo, dt)
	}
	if max := v.d.Simulation.MaxDelay; max > 0 && d.Kind == KindScalar && d.Scalar > max*(1+1e-9) {
		v.addf(path, "delay %g ms is above max_delay %g ms", d.Scalar, max)
	}
}

var connectorTypes = []string{"AllToAllConnector", "OneToOneConnector", "FixedProbabilityConnector", "FixedNumberPreConnector", "FixedNumberPostConnector", "FixedTotalNumberConnector"}

func (v *validator) connector(path string, c *Connector, nPre, nPost int) {
	switch c.Type {
	case "AllToAllConnector":
	case "OneToOneConnector":
		if nPre != nPost {
			v.addf(path, "OneToOneConnector needs pre and post of the same size, got %d and %d", nPre, nPost)
		}
	case "FixedProbabilityConnector":
		if !(c.P >= 0 && c.P <= 1) {
			v.addf(path+".p", "must be a probability between 0 and 1, got %g", c.P)
		}
	case "FixedNumberPreConnector", "FixedNumberPostConnector", "FixedTotalNumberConnector":
		if c.N < 0 {
			v.addf(path+".n", "must not be negative, got %d", c.N)
			return
		}
		avail := nPre
		if c.Type == "FixedNumberPostConnector" {
			avail = nPost
		}
		if c.Type == "FixedTotalNumberConnector" {
			avail = nPre * nPost
		}
		if !c.WithReplacement && c.N > avail {
			v.addf(path+".n", "%d connections without replacement, but only %d candidates", c.N, avail)
		}
	default:
		v.addf(path+".type", "unknown connector %q (known: %s; other PyNN connectors are expanded by the front end into connection lists)", c.Type, strings.Join(connectorTypes, ", "))
	}
}

// connections checks an explicit connection list and returns its length.
func (v *validator) connections(path string, c *Connections, nPre, nPost int, st *SynapseType) int {
	if c.Pre.Kind != KindArray || c.Post.Kind != KindArray {
		v.addf(path, "pre and post must be arrays of indices")
		return -1
	}
	n := c.Pre.Array.Len()
	if c.Post.Array.Len() != n {
		v.addf(path, "pre has %d indices but post has %d", n, c.Post.Array.Len())
		return -1
	}
	for _, side := range []struct {
		k   string
		val *Value
		max int
	}{{"pre", &c.Pre, nPre}, {"post", &c.Post, nPost}} {
		xs, bad, ok := side.val.Array.Int64s()
		if !ok {
			v.addf(path+"."+side.k, "index %d is not a whole number", bad)
			return -1
		}
		for j, x := range xs {
			if x < 0 || x >= int64(side.max) {
				v.addf(path+"."+side.k, "index %d of connection %d is out of bounds for a selection of %d neurons", x, j, side.max)
				return -1
			}
		}
	}
	for _, k := range sortedKeys(c.Parameters) {
		val := c.Parameters[k]
		pd := st.Param(k)
		if pd == nil {
			v.addf(path+".parameters."+k, "unknown synapse parameter for %s", st.Name)
			continue
		}
		v.value(path+".parameters."+k, &val, pd, n)
	}
	return n
}

func (v *validator) currentSource(i int) {
	cs := &v.d.CurrentSources[i]
	name := fmt.Sprintf("current_sources[%d]", i)
	if cs.Label != "" {
		name += fmt.Sprintf(" %q", cs.Label)
	}
	t, ok := v.cat.CurrentSources[cs.Type]
	if !ok {
		v.addf(name+".type", "unknown current source %q (known: %s)", cs.Type, joinKeys(v.cat.CurrentSources))
		return
	}
	v.values(name+".parameters", cs.Parameters, t.Params, 1, "parameter")
	_, types := v.selection(name+".targets", cs.Targets)
	for _, ct := range types {
		if ct.Source {
			v.addf(name+".targets", "current cannot be injected into %s, a spike source", ct.Name)
			return
		}
	}
	if cs.Type == "StepCurrentSource" {
		times, amps := cs.Parameters["times"], cs.Parameters["amplitudes"]
		if times.Len() != amps.Len() {
			v.addf(name+".parameters", "times has %d values but amplitudes has %d", max(times.Len(), 0), max(amps.Len(), 0))
		}
	}
}

func (v *validator) recording(path string, r *Recording, dt float64) {
	_, types := v.selection(path+".selection", r.Selection)
	for _, variable := range r.Variables {
		for _, ct := range types {
			if !ct.CanRecord(variable) && ct.StateVar(variable) == nil {
				v.addf(path+".variables", "%s cannot record %q (it can record: %s)", ct.Name, variable, strings.Join(ct.Recordables, ", "))
				return
			}
		}
	}
	if si := r.SamplingInterval; si != 0 && (si < dt*(1-1e-9) || math.IsInf(si, 0) || math.IsNaN(si)) {
		v.addf(path+".sampling_interval", "%g ms is below the timestep %g ms", si, dt)
	}
}

func (v *validator) schedule(dt float64) {
	for i, a := range v.d.Schedule {
		path := fmt.Sprintf("schedule[%d]", i)
		n := 0
		if a.Run != nil {
			n++
			if !(*a.Run >= 0) || math.IsInf(*a.Run, 0) {
				v.addf(path+".run", "must be a duration of 0 ms or more, got %g", *a.Run)
			}
		}
		if a.Reset {
			n++
		}
		if s := a.Set; s != nil {
			n++
			size, types := v.selection(path+".set.selection", s.Selection)
			for _, ct := range types {
				v.values(path+".set.parameters", s.Parameters, ct.Params, size, "parameter")
				v.values(path+".set.initial_values", s.InitialValues, ct.State, size, "state variable")
				v.values(path+".set.state", s.State, ct.State, size, "state variable")
			}
		}
		if s := a.SetSynapses; s != nil {
			n++
			if s.Projection < 0 || s.Projection >= len(v.d.Projections) {
				v.addf(path+".set_synapses.projection", "there is no projection %d", s.Projection)
			} else if st := v.cat.Synapses[v.d.Projections[s.Projection].Synapse.Type]; st != nil {
				v.values(path+".set_synapses.parameters", s.Parameters, v.synapseParams(&v.d.Projections[s.Projection], st), -1, "synapse parameter")
			}
		}
		if s := a.SetCurrentSource; s != nil {
			n++
			if s.Source < 0 || s.Source >= len(v.d.CurrentSources) {
				v.addf(path+".set_current_source.source", "there is no current source %d", s.Source)
			} else if t := v.cat.CurrentSources[v.d.CurrentSources[s.Source].Type]; t != nil {
				v.values(path+".set_current_source.parameters", s.Parameters, t.Params, 1, "parameter")
			}
		}
		if r := a.Record; r != nil {
			n++
			v.recording(path+".record", r, dt)
		}
		if n != 1 {
			v.addf(path, "an action must do exactly one thing (run, reset, set, set_synapses, set_current_source or record); this one does %d", n)
		}
	}
}

// bytesPerNeuron and bytesPerSynapse are generous estimates of what the
// engine allocates, for the memory check.
const (
	bytesPerNeuron  = 256
	bytesPerSynapse = 16
)

// EstimateSynapses returns the expected number of connections of projection i.
func (d *Description) EstimateSynapses(i int) float64 {
	pr := &d.Projections[i]
	nPre, nPost := float64(d.SelectionSize(pr.Pre)), float64(d.SelectionSize(pr.Post))
	if pr.Connections != nil {
		return float64(pr.Connections.Pre.Array.Len())
	}
	c := pr.Connector
	switch c.Type {
	case "AllToAllConnector":
		return nPre * nPost
	case "OneToOneConnector":
		return nPre
	case "FixedProbabilityConnector":
		return c.P * nPre * nPost
	case "FixedNumberPreConnector":
		return float64(c.N) * nPost
	case "FixedNumberPostConnector":
		return float64(c.N) * nPre
	case "FixedTotalNumberConnector":
		return float64(c.N)
	}
	return 0
}

// SelectionSize returns the number of neurons a (valid) selection holds.
func (d *Description) SelectionSize(s Selection) int {
	n := 0
	for _, part := range s {
		if part.Indices != nil {
			n += part.Indices.Len()
		} else if part.Population >= 0 && part.Population < len(d.Populations) {
			n += d.Populations[part.Population].Size
		}
	}
	return n
}

// SelectionIDs returns the neurons of a (valid) selection in its order, each
// as offset[population] + index: the numbering of a caller that lays all
// populations' neurons out in one range.
func (d *Description) SelectionIDs(s Selection, offset []int) []int {
	out := make([]int, 0, d.SelectionSize(s))
	for _, part := range s {
		base := offset[part.Population]
		if part.Indices == nil {
			for j := 0; j < d.Populations[part.Population].Size; j++ {
				out = append(out, base+j)
			}
			continue
		}
		xs, _, _ := part.Indices.Array.Int64s()
		for _, x := range xs {
			out = append(out, base+int(x))
		}
	}
	return out
}

func (v *validator) memory(lim Limits) {
	max := lim.MaxBytes
	if max == 0 {
		max = DefaultMaxBytes
	}
	total := 0.0
	for _, p := range v.d.Populations {
		total += float64(p.Size) * bytesPerNeuron
	}
	worst, worstBytes := -1, 0.0
	for i := range v.d.Projections {
		b := v.d.EstimateSynapses(i) * bytesPerSynapse
		total += b
		if b > worstBytes {
			worst, worstBytes = i, b
		}
	}
	if total > float64(max) {
		msg := fmt.Sprintf("the network would need about %.3g GB, more than the %.3g GB available to it", total/1e9, float64(max)/1e9)
		if worst >= 0 && worstBytes > total/2 {
			v.addf(v.d.ProjName(worst), "%s; this projection alone needs about %.3g GB (%.3g connections)", msg, worstBytes/1e9, worstBytes/bytesPerSynapse)
		} else {
			v.addf("populations", "%s", msg)
		}
	}
}

// ErrInvalid is matched by every *ValidationError with errors.Is.
var ErrInvalid = errors.New("invalid network description")

// Is makes errors.Is(err, ErrInvalid) true for validation errors.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// ValidateAction checks an action that arrives after the build (in an
// interactive session) against the description it acts on.
func ValidateAction(d *Description, a *Action, cat *Catalog) error {
	cp := *d
	cp.Schedule = []Action{*a}
	cp.Recordings = nil
	return Validate(&cp, cat, Limits{MaxBytes: math.MaxInt64})
}
