package spikey

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
	"github.com/nmp-platform/nmp/system/spikey/calib"
)

// bench is a station as the calibration sees it (calib.Chip): experiments
// run as descriptions through the same preparation and engine as a user's,
// with no calibration applied, the voltages programmed as given, and the
// membrane delivered as the ADC's codes; the parameter cells and the
// board's reference read through the ADC. Nothing else of the chip
// reaches package calib.
type bench struct {
	chip *chip
}

var _ calib.Chip = (*bench)(nil)

func (b *bench) Station() string { return b.chip.station }

// rawSystem prepares descriptions without calibration (the bench's runs).
type rawSystem struct{}

func (rawSystem) Name() string              { return "spikey" }
func (rawSystem) Catalog() *network.Catalog { return userCatalog }
func (rawSystem) Prepare(d *network.Description) (*system.Plan, error) {
	return prepare(d, true)
}

func (b *bench) Run(e calib.Experiment) (calib.Result, error) {
	if len(e.Neurons) == 0 {
		return calib.Result{}, fmt.Errorf("an experiment without neurons")
	}
	// network neuron i sits on e.Neurons[i].HW
	perm := make([]int, 0, numNeurons)
	used := make([]bool, numNeurons)
	pos := map[int]int{}
	for i, n := range e.Neurons {
		if n.HW < 0 || n.HW >= numNeurons || used[n.HW] {
			return calib.Result{}, fmt.Errorf("neuron %d: hardware neuron %d is out of range or configured twice", i, n.HW)
		}
		used[n.HW] = true
		perm = append(perm, n.HW)
		pos[n.HW] = i
	}
	for h := 0; h < numNeurons; h++ {
		if !used[h] {
			perm = append(perm, h)
		}
	}
	off := false
	opts, _ := json.Marshal(Options{Station: b.chip.station, NeuronPermutation: perm,
		CalibTauMem: &off, CalibSynDrivers: &off, CalibVthresh: &off, CalibOutputPins: &off})
	d := &network.Description{Format: "nmp-network", Version: 1,
		Simulation: network.Simulation{Timestep: timestep, Seed: rng.Derive(b.chip.seed, 1000, e.Seed), Threads: 1},
		System:     &network.Target{Name: "spikey", Options: opts}}
	col := func(f func(n calib.Neuron) float64) network.Value {
		xs := make([]float64, len(e.Neurons))
		for i, n := range e.Neurons {
			xs[i] = f(n)
		}
		return network.Floats(xs)
	}
	d.Populations = append(d.Populations, network.Population{Label: "calibration", Size: len(e.Neurons), CellType: cellName,
		Parameters: map[string]network.Value{
			"g_leak":     col(func(n calib.Neuron) float64 { return n.GLeak }),
			"tau_refrac": col(func(n calib.Neuron) float64 { return n.TauRefrac }),
			"v_rest":     col(func(n calib.Neuron) float64 { return n.VRest }),
			"v_reset":    col(func(n calib.Neuron) float64 { return n.VReset }),
			"v_thresh":   col(func(n calib.Neuron) float64 { return n.VThresh }),
			"e_rev_I":    col(func(n calib.Neuron) float64 { return n.ERevI }),
		}})
	if len(e.Inputs) > 0 {
		// external source k takes row 255-k in every block
		times := make([][]float64, driversPerBlock)
		for k := range times {
			times[k] = []float64{}
		}
		conns := map[bool][3][]float64{}
		for _, in := range e.Inputs {
			if in.Row < 0 || in.Row >= driversPerBlock || in.Block < 0 || in.Block >= numBlocks || in.Weight < 0 || in.Weight > maxDigital {
				return calib.Result{}, fmt.Errorf("input on block %d row %d with weight %d: out of range", in.Block, in.Row, in.Weight)
			}
			k := driversPerBlock - 1 - in.Row
			if len(times[k]) > 0 && len(in.Times) > 0 {
				return calib.Result{}, fmt.Errorf("row %d carries two inputs (the external source of a row feeds it in both blocks)", in.Row)
			}
			if len(in.Times) > 0 {
				times[k] = in.Times
			}
			lsb := lsbExcUncalib
			if in.Inhibitory {
				lsb = lsbInhUncalib
			}
			c := conns[in.Inhibitory]
			for _, h := range in.Targets {
				j, ok := pos[h]
				if !ok || h/neuronsPerBlock != in.Block {
					return calib.Result{}, fmt.Errorf("input on block %d row %d: target %d is not a configured neuron of the block", in.Block, in.Row, h)
				}
				c[0], c[1], c[2] = append(c[0], float64(k)), append(c[1], float64(j)), append(c[2], float64(in.Weight)*lsb)
			}
			conns[in.Inhibitory] = c
		}
		d.Populations = append(d.Populations, network.Population{Label: "inputs", Size: driversPerBlock, CellType: sourceArray,
			Parameters: map[string]network.Value{"spike_times": network.Ragged(times)}})
		for _, inh := range []bool{false, true} {
			c, ok := conns[inh]
			if !ok || len(c[0]) == 0 {
				continue
			}
			pre, post := make([]int64, len(c[0])), make([]int64, len(c[1]))
			for i := range pre {
				pre[i], post[i] = int64(c[0][i]), int64(c[1][i])
			}
			rec := "excitatory"
			if inh {
				rec = "inhibitory"
			}
			d.Projections = append(d.Projections, network.Projection{Pre: network.Selection{{Population: 1}}, Post: network.Selection{{Population: 0}},
				ReceptorType: rec, Synapse: network.Synapse{Type: staticSyn},
				Connections: &network.Connections{Pre: network.Ints(pre), Post: network.Ints(post), Parameters: map[string]network.Value{"weight": network.Floats(c[2])}}})
		}
	}
	d.Recordings = append(d.Recordings, network.Recording{Selection: network.Selection{{Population: 0}}, Variables: []string{"spikes"}})
	if e.Membrane >= 0 {
		j, ok := pos[e.Membrane]
		if !ok {
			return calib.Result{}, fmt.Errorf("membrane of hardware neuron %d, which the experiment does not configure", e.Membrane)
		}
		idx := network.Ints([]int64{int64(j)})
		d.Recordings = append(d.Recordings, network.Recording{Selection: network.Selection{{Population: 0, Indices: &idx}}, Variables: []string{"v"}})
	}
	ctx := context.Background()
	r, err := system.NewRun(ctx, rawSystem{}, d, system.RunOptions{Threads: 1})
	if err != nil {
		return calib.Result{}, err
	}
	ms := e.Duration
	if err := r.Apply(ctx, &network.Action{Run: &ms}); err != nil {
		return calib.Result{}, err
	}
	segs, err := r.Data(true)
	if err != nil {
		return calib.Result{}, err
	}
	res := calib.Result{Spikes: make([][]float64, len(e.Neurons)), Interval: timestep}
	for _, s := range segs {
		if len(s.Spikes) > 0 {
			ps := s.Spikes[0]
			for k, id := range ps.IDs {
				res.Spikes[id] = append(res.Spikes[id], ps.Times[k])
			}
		}
		for _, sig := range s.Signals {
			if sig.Variable == "v" {
				res.Membrane = append(res.Membrane, sig.Data...)
			}
		}
	}
	return res, nil
}

// ReadReference: the board's reference source is exact; the ADC adds its
// gain, offset, noise and quantisation.
func (b *bench) ReadReference(v float64, n int, seed uint64) ([]float64, error) {
	r := rng.New(rng.Derive(b.chip.seed, 2000, seed))
	out := make([]float64, n)
	for i := range out {
		out[i] = b.chip.adc(v + sdReadout*r.Normal())
	}
	return out, nil
}

// ReadCell reads a parameter cell's output through the ADC.
func (b *bench) ReadCell(block, parity int, c calib.Cell, set float64, n int, seed uint64) ([]float64, error) {
	if block < 0 || block >= numBlocks || parity < 0 || parity > 1 || c < 0 || int(c) >= calib.NumCells {
		return nil, fmt.Errorf("no parameter cell %d of block %d parity %d", c, block, parity)
	}
	r := rng.New(rng.Derive(b.chip.seed, 3000, seed))
	v := b.chip.cellOut(block, parity, c, set)
	out := make([]float64, n)
	for i := range out {
		out[i] = b.chip.adc(v + sdReadout*r.Normal())
	}
	return out, nil
}
