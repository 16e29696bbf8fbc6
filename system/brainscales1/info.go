package brainscales1

import "github.com/nmp-platform/nmp/network"

// Per-connection detail goes into the info (for getWeights, the hardware
// synapses and the mapping picture) up to this many connections in all;
// beyond, the info holds the counts only.
const detailLimit = 1 << 20

// info describes the mapping: marocco's MappingStats, the placement, the
// routes' use of the wafer, and per projection what was realised.
func (m *mapper) info(st *pulseStats) map[string]any {
	d := m.d
	var total, set int64
	projs := make([]map[string]any, len(m.projs))
	for i := range m.projs {
		pc := &m.projs[i]
		var causes [4]int64
		for _, s := range pc.status {
			causes[s]++
		}
		n := int64(len(pc.status))
		total += n
		set += causes[realized]
		pi := map[string]any{"projection": i, "label": d.Projections[i].Label, "synapses": n, "synapses_set": causes[realized],
			"lost": n - causes[realized], "lost_l1": causes[lostL1], "lost_drivers": causes[lostDriver], "lost_synapses": causes[lostSynapse]}
		projs[i] = pi
	}
	detail := total <= detailLimit
	if detail {
		for i := range m.projs {
			pc := &m.projs[i]
			lost := make([]int64, 0)
			hw := make([]int32, 0, 5*len(pc.status))
			for k, s := range pc.status {
				if s != realized {
					lost = append(lost, int64(k))
					continue
				}
				hw = append(hw, int32(k), int32(pc.hicann[k]), int32(pc.row[k]), int32(pc.col[k]), int32(pc.dig[k]))
			}
			projs[i]["lost_indices"] = lost
			projs[i]["hardware_synapses"] = hw
			projs[i]["effective_weights"] = pc.eff
			if w, ok := d.Projections[i].Synapse.Parameters["weight"]; ok && w.Kind != network.KindScalar {
				projs[i]["weights"] = pc.w // drawn here: the front end reads them back
			}
		}
	}
	// placement
	pops := make([]map[string]any, len(d.Populations))
	var neurons int
	for p, pop := range d.Populations {
		pi := map[string]any{"population": p, "label": pop.Label, "size": pop.Size, "source": isSource(pop.CellType)}
		if !isSource(pop.CellType) {
			neurons += pop.Size
		}
		if total <= detailLimit || pop.Size <= 1<<16 {
			// per neuron: HICANN, first denmem column (-1 for sources), size, DNC merger, L1 address
			pl := make([]int32, 0, 5*pop.Size)
			for i := 0; i < pop.Size; i++ {
				k := m.pl.of[p][i]
				pl = append(pl, int32(m.pl.hicann[k]), int32(m.pl.x[k]), int32(m.pl.size[k]), int32(m.pl.merger[k]), int32(m.pl.addr[k]))
			}
			pi["placement"] = pl
		}
		pops[p] = pi
	}
	var allocated []int
	var hUse, vUse []int
	for h := 0; h < numHICANNs; h++ {
		if m.w.used[h] || m.net.hUsed[h] > 0 || m.net.vUsed[h][0]+m.net.vUsed[h][1] > 0 || m.w.inRate[h] > 0 {
			allocated = append(allocated, h)
			hUse = append(hUse, m.net.hUsed[h])
			vUse = append(vUse, m.net.vUsed[h][0]+m.net.vUsed[h][1])
		}
	}
	denmems := 0
	for k := range m.pl.size {
		denmems += int(m.pl.size[k])
	}
	var drivers int
	for _, cfg := range m.rowCfg {
		for r := 0; r < numRows; r += 2 {
			if cfg[r].used || cfg[r+1].used {
				drivers++
			}
		}
	}
	lost := total - set
	stats := map[string]any{
		"synapse_loss": lost, "synapses": total, "synapses_set": set, "synapses_lost": lost,
		"synapses_lost_l1": m.lost[lostL1], "synapses_lost_drivers": m.lost[lostDriver], "synapses_lost_synapses": m.lost[lostSynapse],
		"populations": len(d.Populations), "projections": len(d.Projections), "neurons": neurons,
		"neuron_usage":  float64(denmems) / float64(numDenmems*max(1, countTrue(m.w.used))),
		"synapse_usage": float64(set) / float64(numRows*denmemsPerRow*max(1, len(m.rowCfg))),
		"denmems":       denmems, "synapse_drivers": drivers, "l1_routes_failed": m.net.failed,
	}
	for k, v := range m.timing {
		stats[k] = v
	}
	return map[string]any{
		"wafer": m.opts.Wafer, "backend": m.opts.Backend, "neuron_size": m.opts.NeuronSize,
		"driver_chain_length": m.opts.DriverChainLength, "speedup": speedup,
		"hicanns": allocated, "hicann_hlines_used": hUse, "hicann_vlines_used": vUse,
		"stats": stats, "projections": projs, "populations": pops, "detail": detail,
		"pulse_statistics": st, "clipped_parameters": m.clipped, "weights_clipped": m.clippedWeights,
		"calibration": m.opts.Calib.Backend, "defects": m.opts.Defects.Backend,
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}
