package spinnaker

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
)

// buildInfo describes the mapping for the user and for provenance: the
// machine, where every population went, the routing tables, the weight
// scaling, and (after runs) the real-time figures.
func (pl *plan) buildInfo() {
	mp := pl.mp
	chips := map[*Chip]bool{}
	boards := map[int]bool{}
	for _, s := range mp.slices {
		chips[s.chip] = true
		boards[s.chip.Board] = true
	}
	var pops []map[string]any
	for vi, v := range mp.vertices {
		var cores [][5]int
		for _, si := range v.slices {
			s := &mp.slices[si]
			cores = append(cores, [5]int{s.chip.X, s.chip.Y, s.core, s.lo, s.hi})
		}
		e := map[string]any{"label": v.name, "population": v.pop, "neurons": v.size, "max_atoms_per_core": v.atoms,
			"cores": cores}
		if v.delayExt {
			e["delay_extension"] = true
		} else {
			sh := pl.shifts[v.pop]
			e["cell_type"] = pl.user.Populations[v.pop].CellType
			if v.neuron {
				e["ring_buffer_shifts"] = []uint32{sh[0], sh[1]}
				ws := pl.weightScale(v.pop)
				e["weight_lsb"] = []float64{math.Ldexp(1, int(sh[0])-15) / ws, math.Ldexp(1, int(sh[1])-15) / ws}
			}
		}
		_ = vi
		pops = append(pops, e)
	}
	before, after, most := 0, 0, 0
	var tables [][4]int
	for _, c := range mp.m.Chips() {
		n, b := len(mp.tables[c]), mp.before[c]
		if b == 0 {
			continue
		}
		before += b
		after += n
		most = max(most, n)
		tables = append(tables, [4]int{c.X, c.Y, b, n})
	}
	// The links the multicast trees use, with how many slices' packets
	// cross each: [x, y, link, trees].
	linkUse := map[[3]int]int{}
	for si := range mp.slices {
		for c, r := range mp.treeLinks[si] {
			for d := 0; d < linksPerChip; d++ {
				if r&(1<<uint(d)) != 0 {
					linkUse[[3]int{c.X, c.Y, d}]++
				}
			}
		}
	}
	links := make([][4]int, 0, len(linkUse))
	for k, n := range linkUse {
		links = append(links, [4]int{k[0], k[1], k[2], n})
	}
	sort.Slice(links, func(i, j int) bool {
		a, b := links[i], links[j]
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] {
			return a[1] < b[1]
		}
		return a[2] < b[2]
	})
	md := mp.m.describe()
	if all := mp.m.Chips(); len(all) <= 4096 {
		chipList := make([][3]int, len(all))
		for i, c := range all {
			chipList[i] = [3]int{c.X, c.Y, c.AppCores()}
		}
		md["chip_list"] = chipList
	}
	pl.info = map[string]any{
		"machine":           md,
		"virtual_board":     pl.virtual,
		"timestep_ms":       pl.dt,
		"time_scale_factor": pl.tsf,
		"cores_used":        len(mp.slices),
		"chips_used":        len(chips),
		"boards_used":       len(boards),
		"populations":       pops,
		"routing": map[string]any{"entries_before_compression": before, "entries": after, "most_entries_on_a_chip": most,
			"router_entries": routerEntries, "tables": tables, "key_atom_bits": mp.atomBits},
		"links": links,
	}
	if len(pl.changes) > 0 {
		pl.info["changes"] = pl.changes
	}
}

// realtimeReport is the mapping info's "realtime": what the runs so far
// counted, computed when the info is written out (after a run, never
// during one), so that every reply and every results file has it fresh.
type realtimeReport struct{ pl *plan }

func (r realtimeReport) MarshalJSON() ([]byte, error) {
	r.pl.finishTicks()
	return json.Marshal(r.pl.realtime())
}

// realtimeInfo puts the real-time figures into the mapping info.
func (pl *plan) realtimeInfo() {
	if pl.rt.load != nil {
		pl.info["realtime"] = realtimeReport{pl}
	}
}

// realtime is what the runs so far counted.
func (pl *plan) realtime() map[string]any {
	l := pl.rt.load
	overran, total, worst := 0, int64(0), int64(0)
	busiest := 0.0
	for c, n := range l.stats.Overruns {
		if n > 0 {
			overran++
		}
		total += n
		worst = max(worst, l.stats.MaxOverrun[c])
		busiest = math.Max(busiest, float64(l.stats.MaxCycles[c])/float64(l.budget))
	}
	where := func(c int) string {
		s := &pl.mp.slices[c]
		return "core " + strconv.Itoa(s.chip.X) + "," + strconv.Itoa(s.chip.Y) + "," + strconv.Itoa(s.core) + " (" + pl.mp.sliceName(c) + ")"
	}
	sat := uint64(0)
	for _, m := range pl.rt.lifs {
		sat += m.saturations()
	}
	for _, m := range pl.rt.izhs {
		for _, x := range m.sat {
			sat += uint64(x)
		}
	}
	return map[string]any{
		"ticks":                          l.stats.Ticks,
		"cycles_per_tick":                l.budget,
		"Times_the_timer_tic_over_ran":   total,
		"cores_that_overran":             overran,
		"max_overrun_cycles":             worst,
		"busiest_tick_of_budget":         busiest,
		"dropped_packets":                l.stats.Dropped,
		"reinjected_packets":             l.stats.Reinjected,
		"max_packets_per_tick_on_router": l.stats.MaxPacketsTick,
		"router_packets_per_tick":        l.routerCap,
		"ring_buffer_saturations":        sat,
		// the same count under a name nmp compare reads as a change
		"ring_buffer_saturated": sat,
		"warnings":              l.warnings(where),
	}
}
