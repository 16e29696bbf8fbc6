package engine

import (
	"fmt"
	"math"
	"sort"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
)

// Current sources. The current in step n is the source's value at t_n, held
// over the step. Start times are inclusive, stop times exclusive.

type currentSource struct {
	index   int
	typ     string
	params  map[string]float64
	times   []float64 // StepCurrentSource
	amps    []float64
	targets []int32 // global, sorted
	// per thread: the range of targets it owns
	ranges [][2]int
	// NoisyCurrentSource: one stream and current value per target.
	streams []rng.Stream
	noise   []float64
	noiseK  []int64 // index of the noise interval the value belongs to
	dt      float64
}

func (s *Simulator) buildCurrentSource(i int) error {
	d := s.desc
	cs := &d.CurrentSources[i]
	name := fmt.Sprintf("current_sources[%d]", i)
	targets, err := s.selection(cs.Targets)
	if err != nil {
		return fmt.Errorf("%s.targets: %w", name, err)
	}
	sort.Slice(targets, func(a, b int) bool { return targets[a] < targets[b] })
	c := &currentSource{index: i, typ: cs.Type, targets: targets, dt: s.dt}
	if err := c.setParams(s.cat.CurrentSources[cs.Type], cs.Parameters); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	c.ranges = make([][2]int, s.threads)
	for k := 0; k < s.threads; k++ {
		a := sort.Search(len(targets), func(j int) bool { return int(targets[j]) >= s.bounds[k] })
		b := sort.Search(len(targets), func(j int) bool { return int(targets[j]) >= s.bounds[k+1] })
		c.ranges[k] = [2]int{a, b}
	}
	if cs.Type == "NoisyCurrentSource" {
		c.streams = make([]rng.Stream, len(targets))
		c.noise = make([]float64, len(targets))
		c.noiseK = make([]int64, len(targets))
		for j, g := range targets {
			c.streams[j].Seed(rng.Derive(d.Simulation.Seed, domainNoise, uint64(i), uint64(g)))
		}
		c.reset()
	}
	for _, g := range targets {
		pop, _ := s.locate(g)
		p := s.pops[pop]
		if p.iext == nil {
			p.iext = make([]float64, p.Size)
		}
	}
	s.currs = append(s.currs, c)
	return nil
}

// setParams applies parameter values over the type's defaults.
func (c *currentSource) setParams(t *network.CurrentSourceType, vals map[string]network.Value) error {
	if c.params == nil {
		c.params = map[string]float64{}
		for _, p := range t.Params {
			if p.Kind == network.Number {
				c.params[p.Name] = p.Default
			}
		}
	}
	for name, v := range vals {
		pd := t.Params
		var kind network.ParamKind
		for _, p := range pd {
			if p.Name == name {
				kind = p.Kind
			}
		}
		if kind == network.Sequence {
			seq := v.Seq(0)
			if v.Kind == network.KindRagged {
				return fmt.Errorf("parameter %s: one sequence is needed, not one per target", name)
			}
			switch name {
			case "times":
				c.times = append([]float64(nil), seq...)
			case "amplitudes":
				c.amps = append([]float64(nil), seq...)
			}
			continue
		}
		if v.Kind != network.KindScalar {
			return fmt.Errorf("parameter %s must be a single number", name)
		}
		c.params[name] = v.Scalar
	}
	if len(c.times) != len(c.amps) {
		return fmt.Errorf("times has %d values but amplitudes has %d", len(c.times), len(c.amps))
	}
	for k := 1; k < len(c.times); k++ {
		if c.times[k] < c.times[k-1] {
			return fmt.Errorf("times must not decrease (index %d)", k)
		}
	}
	return nil
}

func (c *currentSource) reset() {
	for j := range c.noiseK {
		c.noiseK[j] = -1
	}
}

// value returns the (target-independent) current at step n.
func (c *currentSource) value(n int64) float64 {
	t := float64(n) * c.dt
	p := c.params
	switch c.typ {
	case "DCSource":
		if t >= p["start"]-c.dt/2 && t < p["stop"]-c.dt/2 {
			return p["amplitude"]
		}
	case "ACSource":
		if t >= p["start"]-c.dt/2 && t < p["stop"]-c.dt/2 {
			// PyNN's phase is the phase at start, not at t = 0.
			return p["offset"] + p["amplitude"]*math.Sin(2*math.Pi*p["frequency"]*(t-p["start"])/1000+p["phase"]*math.Pi/180)
		}
	case "StepCurrentSource":
		k := sort.Search(len(c.times), func(i int) bool { return c.times[i] > t+c.dt/2 })
		if k > 0 {
			return c.amps[k-1]
		}
	}
	return 0
}

// computeCurrents fills the external currents of thread t's neurons for step n.
func (s *Simulator) computeCurrents(t *threadState, n int64) {
	if len(s.currs) == 0 {
		return
	}
	for _, p := range s.pops {
		if p.iext == nil {
			continue
		}
		lo := max(t.lo, p.Offset) - p.Offset
		hi := min(t.hi, p.Offset+p.Size) - p.Offset
		if lo < hi {
			clear(p.iext[lo:hi])
		}
	}
	for _, c := range s.currs {
		rg := c.ranges[t.k]
		if rg[0] == rg[1] {
			continue
		}
		if c.typ == "NoisyCurrentSource" {
			c.addNoise(s, rg, n)
			continue
		}
		v := c.value(n)
		if v == 0 {
			continue
		}
		for _, g := range c.targets[rg[0]:rg[1]] {
			pop, local := s.locate(g)
			s.pops[pop].iext[local] += v
		}
	}
}

func (c *currentSource) addNoise(s *Simulator, rg [2]int, n int64) {
	p := c.params
	t := float64(n) * c.dt
	if t < p["start"]-c.dt/2 || t >= p["stop"]-c.dt/2 {
		return
	}
	// A new value every noise dt, counted from start.
	k := int64(math.Floor((t - p["start"] + c.dt/2) / p["dt"]))
	for j := rg[0]; j < rg[1]; j++ {
		if c.noiseK[j] != k {
			c.noise[j] = p["mean"] + p["stdev"]*c.streams[j].Normal()
			c.noiseK[j] = k
		}
		g := c.targets[j]
		pop, local := s.locate(g)
		s.pops[pop].iext[local] += c.noise[j]
	}
}
