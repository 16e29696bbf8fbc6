package brainscales2

// buildInfo describes the mapping for the user and for provenance.
func (pl *plan) buildInfo() {
	d := pl.user
	var neurons []map[string]any
	for i := range d.Populations {
		if cs, ok := pl.mp.circuits[i]; ok {
			neurons = append(neurons, map[string]any{"population": i, "label": d.Populations[i].Label, "circuits": cs})
		}
	}
	var projs []map[string]any
	for i := range d.Projections {
		rows := map[string][]int{}
		for h, rs := range pl.mp.rowsByProj[i] {
			rows[[]string{"top", "bottom"}[h]] = rs
		}
		projs = append(projs, map[string]any{"projection": i, "label": d.Projections[i].Label,
			"connections": len(pl.mp.conns[i]), "synapses": pl.mp.synapsesUsed[i], "rows": rows})
	}
	var gens []map[string]any
	for _, s := range pl.srcs {
		if s != nil && s.kind == sourceOnChip {
			gens = append(gens, map[string]any{"population": s.index, "generator": s.gen, "period": s.period, "rate": s.rate8})
		}
	}
	used := 0
	for _, cs := range pl.mp.circuits {
		used += len(cs)
	}
	pl.info = map[string]any{
		"chip":                  pl.opts.Chip,
		"timestep_us":           pl.opts.TimestepUs,
		"neuron_circuits_used":  used,
		"neurons":               neurons,
		"synapse_arrays":        pl.mp.usage(),
		"projections":           projs,
		"background_generators": gens,
		"madc":                  pl.rec.madcInfo(),
		"crossbar":              map[string]any{"events": 0, "dropped": 0, "fifo_depth": pl.xbar.fifo},
		"mismatch":              pl.opts.Mismatch,
		"noise":                 pl.opts.Noise,
	}
	if pl.opts.Calibration != nil {
		pl.info["calibration"] = pl.opts.Calibration
	}
}
