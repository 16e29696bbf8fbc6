package spikey

import (
	"fmt"
	"math"
	"sort"
)

// buildInfo describes the configuration for the user (the build reply's
// mapping, from which pyNN.hardware.spikey writes spikeyconfig.out and its
// picture) and for provenance.
func (pl *plan) buildInfo() {
	d := pl.user
	pops := []map[string]any{}
	used := []int{}
	for i := range d.Populations {
		if pp := pl.pops[i]; pp != nil {
			pops = append(pops, map[string]any{"population": i, "label": d.Populations[i].Label, "hardware_neurons": pp.hw})
			used = append(used, pp.hw...)
		}
	}
	sort.Ints(used)
	neurons := make([]map[string]any, 0, len(used))
	for _, h := range used {
		neurons = append(neurons, map[string]any{"neuron": h, "g_leak": pl.gL[h], "tau_refrac": pl.refr[h]})
	}
	keys := make([][2]int, 0, len(pl.drivers))
	for k := range pl.drivers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a][0] != keys[b][0] {
			return keys[a][0] < keys[b][0]
		}
		return keys[a][1] < keys[b][1]
	})
	drivers := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		du := pl.drivers[k]
		typ := "excitatory"
		if du.inh {
			typ = "inhibitory"
		}
		dr := map[string]any{"block": du.block, "row": du.row, "source": du.source, "type": typ,
			"drviout": drvioutBase * du.out, "drvifall": drvifallBase * du.fall, "drvirise": drviriseBase,
			"tau_rise_ms": tauRise0, "tau_fall_ms": tauFall0 / du.fall}
		if du.stp.on {
			mode := "depression"
			if du.stp.tauFa != 0 {
				mode = "facilitation"
			}
			dr["stp"] = map[string]any{"mode": mode, "U": du.stp.u, "tau_rec": du.stp.tauRec, "tau_facil": du.stp.tauFa}
		}
		if du.plastic >= 0 {
			dr["stdp_row"] = du.plastic
		}
		drivers = append(drivers, dr)
	}
	skeys := make([][3]int, 0, len(pl.weights))
	for k := range pl.weights {
		skeys = append(skeys, k)
	}
	sort.Slice(skeys, func(a, b int) bool {
		for i := 0; i < 3; i++ {
			if skeys[a][i] != skeys[b][i] {
				return skeys[a][i] < skeys[b][i]
			}
		}
		return false
	})
	syn := make([][4]int, len(skeys))
	for i, k := range skeys {
		syn[i] = [4]int{k[0], k[1], k[2], pl.weights[k]}
	}
	groups := []map[string]any{}
	for b := 0; b < numBlocks; b++ {
		for par := 0; par < 2; par++ {
			h, ok := pl.groupOwner[[2]int{b, par}]
			if !ok {
				continue
			}
			groups = append(groups, map[string]any{"block": b, "parity": [2]string{"even", "odd"}[par],
				"v_rest": pl.vrest[h], "v_reset": pl.vreset[h], "v_thresh": pl.vth[h], "e_rev_I": pl.erevI[h], "e_rev_E": eRevE})
		}
	}
	calib := map[string]bool{"tau_mem": on(pl.opts.CalibTauMem), "syn_drivers": on(pl.opts.CalibSynDrivers),
		"vthresh": on(pl.opts.CalibVthresh), "output_pins": on(pl.opts.CalibOutputPins)}
	pl.info = map[string]any{"chip": pl.chip.station, "station": pl.chip.station, "speedup": speedup, "timestep_ms": timestep,
		"mapping_offset": pl.opts.MappingOffset, "populations": pops, "neurons": neurons, "drivers": drivers,
		"synapses": syn, "shared_voltages": groups, "calibrations": calib, "icb": pl.opts.Icb,
		"stdp":   map[string]any{"rows": len(pl.plastic), "row_ms": pl.opts.STDPRowMs, "tau_ms": stdpTau, "threshold": stdpThreshold},
		"shapes": len(pl.shapes)}
	if pl.vPop >= 0 {
		pl.info["membrane_neuron"] = pl.pops[pl.vPop].hw[pl.vIdx]
	}
	pl.clipWarnings()
	if len(pl.warnings) > 0 {
		pl.info["warnings"] = pl.warnings
	}
	pl.quantInfo()
}

// weightQuant is what the 4-bit synapses did to one projection's weights.
type weightQuant struct {
	projection  int
	label       string
	connections int
	// changed counts the weights the quantisation moved (by more than a
	// millionth of a step), zeroed those that became 0 (no synapse).
	changed, zeroed int
	maxChange       float64 // µS
	lsb             float64 // µS per step
}

func (q *weightQuant) add(want, got, lsb float64) {
	q.connections++
	q.lsb = lsb
	d := math.Abs(got - want)
	if d > 1e-6*lsb {
		q.changed++
		q.maxChange = math.Max(q.maxChange, d)
	}
	if got == 0 && want != 0 {
		q.zeroed++
	}
}

// quantInfo reports the weights' quantisation the way every system does
// for nmp compare (docs/benchmarks.md): one "changes" entry per projection
// whose weights moved, "weights_quantised" (their total), and the figures
// per projection under "weight_steps".
func (pl *plan) quantInfo() {
	var changes []map[string]any
	steps := []map[string]any{}
	total := 0
	for _, q := range pl.quant {
		steps = append(steps, map[string]any{"projection": q.projection, "label": pl.user.Projections[q.projection].Label,
			"connections": q.connections, "changed": q.changed, "max_change_uS": q.maxChange, "to_zero": q.zeroed, "step_uS": q.lsb})
		if q.changed == 0 {
			continue
		}
		total += q.changed
		detail := fmt.Sprintf("%s: %d of %d weights moved to the 4-bit synapses' steps of %.4g uS (stochastic rounding), by up to %.4g uS",
			q.label, q.changed, q.connections, q.lsb, q.maxChange)
		if q.zeroed > 0 {
			detail += fmt.Sprintf("; %d became 0 (no synapse)", q.zeroed)
		}
		changes = append(changes, map[string]any{"what": "weights", "detail": detail})
	}
	pl.info["weight_steps"] = steps
	pl.info["weights_quantised"] = total
	if len(changes) > 0 {
		pl.info["changes"] = changes
	}
}
