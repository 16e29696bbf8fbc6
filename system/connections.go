package system

import (
	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
)

// Drawn is one projection's connections as the engine draws them: indices
// into the projection's pre and post selections, and the values of the
// synapse parameters asked for, one per connection.
type Drawn struct {
	Pre, Post []int32
	Values    map[string][]float64
}

// DrawConnections draws every projection's connections exactly as the
// engine would for d (the same seeds, in the same order), for a system that
// places the connections itself. The connections do not depend on the cell
// models nor on most synapse parameters, so they are drawn on a surrogate
// network: surrogate names the engine cell type that stands for each
// population, receptor (nil: unchanged) the receptor type each projection is
// drawn onto, and only the synapse parameters named in params are kept and
// returned.
func DrawConnections(d *network.Description, timestep float64, surrogate func(network.Population) string,
	receptor func(string) string, params ...string) ([]Drawn, error) {
	if len(d.Projections) == 0 {
		return nil, nil
	}
	d2 := &network.Description{Format: d.Format, Version: d.Version,
		Simulation: network.Simulation{Timestep: timestep, Seed: d.Simulation.Seed, Threads: 1}}
	for _, p := range d.Populations {
		d2.Populations = append(d2.Populations, network.Population{Label: p.Label, Size: p.Size, CellType: surrogate(p)})
	}
	keep := func(from map[string]network.Value) map[string]network.Value {
		to := map[string]network.Value{}
		for _, k := range params {
			if v, ok := from[k]; ok {
				to[k] = v
			}
		}
		return to
	}
	for _, pr := range d.Projections {
		rt := pr.ReceptorType
		if receptor != nil {
			rt = receptor(rt)
		}
		q := network.Projection{Label: pr.Label, Pre: pr.Pre, Post: pr.Post, ReceptorType: rt,
			Synapse: network.Synapse{Type: "StaticSynapse", Parameters: keep(pr.Synapse.Parameters)}, Connector: pr.Connector}
		if c := pr.Connections; c != nil {
			cc := *c
			cc.Parameters = keep(c.Parameters)
			q.Connections = &cc
		}
		d2.Projections = append(d2.Projections, q)
	}
	sim, err := engine.New(d2, engine.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	out := make([]Drawn, len(d.Projections))
	for i := range out {
		pre, post, err := sim.Connections(i)
		if err != nil {
			return nil, err
		}
		dr := Drawn{Pre: pre, Post: post, Values: make(map[string][]float64, len(params))}
		for _, k := range params {
			if dr.Values[k], err = sim.SynapseValues(i, k); err != nil {
				return nil, err
			}
		}
		out[i] = dr
	}
	return out, nil
}
