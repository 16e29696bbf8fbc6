package brainscales1

import (
	"fmt"
	"math"
	"sort"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// The L2 network and the merger tree, as the ESS models them: the FPGA
// plays stimuli back at most maxRateFPGA events/s with a burst budget of
// fpgaBurst events (the excess is dropped before the run); each HICANN's
// link carries maxRateHICANN events/s with a FIFO of l2FIFO events each
// way (a full FIFO loses the event); a DNC merger passes one event per PLL
// clock with l1Buffer events buffered. Rates are in hardware time.
const (
	fpgaBurst = 16
	l2FIFO    = 16
	l1Buffer  = 2
)

// pulseStats are the ESS's counters (lost_event_logger).
type pulseStats struct {
	DownBeforeSim int64 `json:"l2_down_before_sim"`
	DownDropped   int64 `json:"l2_down_dropped_before_sim"`
	DownSent      int64 `json:"l2_down_sent"`
	DownLost      int64 `json:"l2_down_lost"`
	UpSent        int64 `json:"l2_up_sent"`
	UpLost        int64 `json:"l2_up_lost"`
	L1NeuronSent  int64 `json:"l1_neuron_sent"`
	L1NeuronLost  int64 `json:"l1_neuron_lost"`
}

// fifo is a queue served at a fixed interval: offer returns the time the
// event leaves, or false when the queue is full.
type fifo struct {
	busy  []float64 // departure times of the events in the queue
	depth int
	serve float64
}

func (f *fifo) offer(t float64) (float64, bool) {
	k := 0
	for k < len(f.busy) && f.busy[k] <= t {
		k++
	}
	f.busy = f.busy[k:]
	if len(f.busy) >= f.depth {
		return 0, false
	}
	start := t
	if n := len(f.busy); n > 0 && f.busy[n-1] > start {
		start = f.busy[n-1]
	}
	f.busy = append(f.busy, start+f.serve)
	return start, true
}

type event struct {
	t float64
	k int32 // output
	i int   // position in the source's times
}

// stimuli returns every spike source's spike times as the wafer receives
// them: Poisson trains drawn over the run, the FPGA's playback budget and
// the links' FIFOs applied (hardware and ESS), and counts the losses.
func (m *mapper) stimuli(st *pulseStats) (map[int][][]float64, error) {
	d := m.d
	out := map[int][][]float64{}
	var evs []event
	for p, pop := range d.Populations {
		if !isSource(pop.CellType) {
			continue
		}
		trains := make([][]float64, pop.Size)
		for i := range trains {
			switch pop.CellType {
			case "SpikeSourceArray":
				if v, ok := pop.Parameters["spike_times"]; ok {
					trains[i] = append([]float64(nil), v.Seq(i)...)
				}
			case "SpikeSourcePoisson":
				if m.opts.DurationMs <= 0 {
					return nil, nil // no run length: the engine draws them
				}
				get := func(n string, def float64) float64 {
					if v, ok := pop.Parameters[n]; ok {
						return v.At(i)
					}
					return def
				}
				rate, start, dur := get("rate", 1), get("start", 0), get("duration", 1e10)
				end := math.Min(start+dur, m.opts.DurationMs)
				if rate > 0 {
					r := rng.New(rng.Derive(d.Simulation.Seed, domPoisson, uint64(p), uint64(i)))
					for t := start + r.Exp()*1e3/rate; t < end; t += r.Exp() * 1e3 / rate {
						trains[i] = append(trains[i], math.Round(t*10)/10)
					}
				}
			}
			k := m.pl.of[p][i]
			for j, t := range trains[i] {
				evs = append(evs, event{t, k, j})
			}
		}
		out[p] = trains
	}
	if m.opts.Backend == "none" {
		return out, nil
	}
	sort.Slice(evs, func(a, b int) bool {
		if evs[a].t != evs[b].t {
			return evs[a].t < evs[b].t
		}
		return evs[a].k < evs[b].k
	})
	st.DownBeforeSim = int64(len(evs))
	// FPGA playback: a token bucket per FPGA (biological ms)
	interval := speedup / maxRateFPGA * 1e3
	tokens := map[int]float64{}
	last := map[int]float64{}
	links := map[int]*fifo{}
	drop := map[[2]int]bool{}
	shift := map[[2]int]float64{}
	for _, e := range evs {
		h := int(m.pl.hicann[e.k])
		f := reticleOf(h)
		tk, seen := tokens[f]
		if !seen {
			tk = fpgaBurst
		} else {
			tk = math.Min(fpgaBurst, tk+(e.t-last[f])/interval)
		}
		last[f] = e.t
		if tk < 1 {
			tokens[f] = tk
			st.DownDropped++
			drop[[2]int{int(e.k), e.i}] = true
			continue
		}
		tokens[f] = tk - 1
		st.DownSent++
		l := links[h]
		if l == nil {
			l = &fifo{depth: l2FIFO, serve: speedup / maxRateHICANN * 1e3}
			links[h] = l
		}
		at, ok := l.offer(e.t)
		if !ok {
			st.DownLost++
			drop[[2]int{int(e.k), e.i}] = true
			continue
		}
		if at > e.t {
			shift[[2]int{int(e.k), e.i}] = at - e.t
		}
	}
	for p, trains := range out {
		for i, ts := range trains {
			k := int(m.pl.of[p][i])
			kept := ts[:0:0]
			for j, t := range ts {
				if drop[[2]int{k, j}] {
					continue
				}
				kept = append(kept, t+shift[[2]int{k, j}])
			}
			sort.Float64s(kept)
			trains[i] = kept
		}
	}
	return out, nil
}

// plan builds what the engine runs from the mapping.
func (m *mapper) plan() (*system.Plan, error) {
	d := m.d
	st := &pulseStats{}
	trains, err := m.stimuli(st)
	if err != nil {
		return nil, err
	}
	dt := m.opts.ESS.Timestep
	ed := &network.Description{Format: d.Format, Version: d.Version, Annotations: d.Annotations,
		Simulation: network.Simulation{Timestep: dt, MinDelay: dt, Seed: d.Simulation.Seed, Threads: d.Simulation.Threads}}
	for p, pop := range d.Populations {
		ep := network.Population{Label: pop.Label, Size: pop.Size, CellType: pop.CellType, Annotations: pop.Annotations,
			InitialValues: pop.InitialValues, Parameters: map[string]network.Value{}}
		if isSource(pop.CellType) {
			if trains != nil && trains[p] != nil {
				ep.CellType = "SpikeSourceArray"
				ep.Parameters["spike_times"] = network.Ragged(trains[p])
			} else {
				ep.Parameters = pop.Parameters
			}
		} else {
			for name, xs := range m.params[p].vals {
				ep.Parameters[name] = network.Floats(xs)
			}
			// The wafer's membranes cannot be initialised: they sit at their
			// resting potential when a run starts.
			ep.InitialValues = map[string]network.Value{"v": network.Floats(m.params[p].vals["v_rest"])}
		}
		ed.Populations = append(ed.Populations, ep)
	}
	var net *l1Net
	var models map[string]engine.ModelFactory
	if m.opts.Backend != "none" {
		if net, err = m.newL1Net(dt); err != nil {
			return nil, err
		}
		models = map[string]engine.ModelFactory{}
		for name, f := range engine.StandardModels {
			models[name] = f
		}
		for name := range userCatalog.Cells {
			if !isSource(name) {
				models[name] = net.wrap(engine.StandardModels[name])
			}
		}
	}
	for i, pr := range d.Projections {
		pc := &m.projs[i]
		delays := make([]float64, len(pc.src))
		for k := range delays {
			a, b := hicannXY[m.pl.hicann[pc.src[k]]], hicannXY[m.pl.hicann[pc.tgt[k]]]
			hops := abs(a[0]-b[0]) + abs(a[1]-b[1])
			delay := math.Round((baseDelay+hopDelay*float64(hops))/dt) * dt
			if net != nil && !isSource(d.Populations[m.pl.pop[pc.src[k]]].CellType) {
				delay -= dt // the step the neuron's merger holds its spike (l1model.go)
			}
			delays[k] = math.Max(dt, delay)
		}
		syn := network.Synapse{Type: "StaticSynapse"}
		if pc.stp > 0 {
			c := m.stps[pc.stp-1]
			syn = network.Synapse{Type: "TsodyksMarkramSynapse", Parameters: map[string]network.Value{
				"U": network.Scalar(c.U), "tau_rec": network.Scalar(c.TauRec), "tau_facil": network.Scalar(c.TauFacil)}}
		}
		ed.Projections = append(ed.Projections, network.Projection{Label: pr.Label, Pre: pr.Pre, Post: pr.Post, ReceptorType: pr.ReceptorType,
			Synapse: syn,
			Connections: &network.Connections{Pre: network.Ints(pc.pre), Post: network.Ints(pc.post),
				Parameters: map[string]network.Value{"weight": network.Floats(pc.eff), "delay": network.Floats(delays)}}})
	}
	// the user's recordings, and every neuron's spikes for the pulse counters
	userSpikes := map[int]bool{}
	ed.Recordings = append(ed.Recordings, d.Recordings...)
	for _, r := range d.Recordings {
		for _, v := range r.Variables {
			if v == "spikes" {
				for _, part := range r.Selection {
					userSpikes[part.Population] = true
				}
			}
		}
	}
	if m.opts.Backend != "none" {
		for p, pop := range d.Populations {
			if !isSource(pop.CellType) && !userSpikes[p] {
				ed.Recordings = append(ed.Recordings, network.Recording{Selection: network.Selection{{Population: p}}, Variables: []string{"spikes"}})
			}
		}
	}
	info := m.info(st)
	ro := &readout{m: m, user: userSpikes, info: info, down: *st, net: net, dt: dt}
	return &system.Plan{Description: ed, Info: info, Models: models, Readout: ro.readout, Action: ro.action}, nil
}

// Delays are not configurable on the wafer; they depend on the distance a
// pulse travels (1 to 4 ms biological): an assumption of 1 ms plus 0.05 ms
// per HICANN passed.
const (
	baseDelay = 1.0
	hopDelay  = 0.05
)

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

type readout struct {
	m    *mapper
	user map[int]bool
	info map[string]any
	down pulseStats
	runs int
	net  *l1Net
	dt   float64
}

// action passes actions on; a run of 0 ms is a no-op that only fetches
// the plan's info (the pulse statistics of the last readout).
func (ro *readout) action(a *network.Action) ([]network.Action, error) {
	if a.Run != nil && *a.Run == 0 {
		return nil, nil
	}
	if a.Set != nil || a.SetSynapses != nil || a.SetCurrentSource != nil {
		return nil, fmt.Errorf("the wafer is reconfigured between runs through a new build (pyhmf does this), not by changing a running network")
	}
	if a.Run != nil {
		ro.runs++
	}
	return []network.Action{*a}, nil
}

// readout takes the neurons' spikes back by the step their mergers held
// them, applies the L2 up link's losses (a spike that reached its targets
// but is not recorded), keeps what the user recorded and counts the pulses.
func (ro *readout) readout(segs []*engine.Segment) ([]*engine.Segment, error) {
	m := ro.m
	st := ro.down
	if m.opts.Backend == "none" {
		return segs, nil
	}
	st.L1NeuronLost = ro.net.lost.Load()
	st.L1NeuronSent = st.L1NeuronLost
	for _, seg := range segs {
		type sp struct {
			t    float64
			p, i int32
			j    int
		}
		var all []sp
		for p := range seg.Spikes {
			if isSource(m.d.Populations[p].CellType) {
				continue
			}
			ps := &seg.Spikes[p]
			for j := range ps.IDs {
				ps.Times[j] -= ro.dt
				all = append(all, sp{ps.Times[j], int32(p), ps.IDs[j], j})
			}
		}
		sort.Slice(all, func(a, b int) bool {
			if all[a].t != all[b].t {
				return all[a].t < all[b].t
			}
			return all[a].p < all[b].p || (all[a].p == all[b].p && all[a].i < all[b].i)
		})
		links := map[int16]*fifo{}
		gone := map[int32]map[int]bool{}
		for _, s := range all {
			h := m.pl.hicann[m.pl.of[s.p][s.i]]
			st.L1NeuronSent++
			st.UpSent++
			lf := links[h]
			if lf == nil {
				lf = &fifo{depth: l2FIFO, serve: speedup / maxRateHICANN * 1e3}
				links[h] = lf
			}
			if _, ok := lf.offer(s.t); !ok {
				st.UpLost++
				if gone[s.p] == nil {
					gone[s.p] = map[int]bool{}
				}
				gone[s.p][s.j] = true
			}
		}
		for p := range seg.Spikes {
			ps := &seg.Spikes[p]
			if isSource(m.d.Populations[p].CellType) {
				continue
			}
			if !ro.user[p] {
				*ps = engine.PopSpikes{}
				continue
			}
			g := gone[int32(p)]
			if len(g) == 0 {
				continue
			}
			ids, times := ps.IDs[:0:0], ps.Times[:0:0]
			for j := range ps.IDs {
				if !g[j] {
					ids = append(ids, ps.IDs[j])
					times = append(times, ps.Times[j])
				}
			}
			ps.IDs, ps.Times = ids, times
		}
	}
	ro.info["pulse_statistics"] = st
	return segs, nil
}
