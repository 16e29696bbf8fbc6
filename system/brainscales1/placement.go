package brainscales1

import (
	"fmt"
	"sort"
)

// wafer is the state of one mapping: what is placed where and which
// resources are taken or defect.
type wafer struct {
	def *defects
	// denmem[h][y*256+x] is the logical neuron (index into lns) using
	// denmem (x, y) of HICANN h, or -1.
	denmem [][]int32
	// hicanns lists the HICANNs that hold placed neurons, in placement order.
	used []bool
	// mergers[h][m] is the output or input use of DNC merger m of HICANN h:
	// 0 free, 1 neuron output, 2 spike input.
	mergers [numHICANNs][numDNCMergers]int8
	// inRate is the input rate placed on each HICANN and FPGA (hardware Hz).
	inRate   [numHICANNs]float64
	fpgaRate [numReticles]float64
}

// logical neurons and sources as struct-of-arrays; an output (a logical
// neuron's or a source's spikes) goes out on one DNC merger with one L1
// address.
type placed struct {
	pop    []int32 // population of each output
	index  []int32 // neuron within the population
	hicann []int16
	x      []int16 // first denmem column (logical neurons); -1 for sources
	size   []int8
	merger []int8
	addr   []int8
	route  []int32 // the output's L1 route
	// of[pop][i] is the output of neuron i of population pop.
	of [][]int32
}

func (p *placed) add(pop, idx, h, x, size int) int32 {
	k := int32(len(p.pop))
	p.pop = append(p.pop, int32(pop))
	p.index = append(p.index, int32(idx))
	p.hicann = append(p.hicann, int16(h))
	p.x = append(p.x, int16(x))
	p.size = append(p.size, int8(size))
	p.merger = append(p.merger, -1)
	p.addr = append(p.addr, -1)
	p.route = append(p.route, -1)
	p.of[pop][idx] = k
	return k
}

// fits reports whether a logical neuron of width w (size 2w) fits at column
// x of HICANN h: within one neuron block, on free, non-defect denmems.
func (w *wafer) fits(h, x, width int) bool {
	if x < 0 || x+width > denmemsPerRow || x/columnsPerBlock != (x+width-1)/columnsPerBlock {
		return false
	}
	dm := w.denmem[h]
	for c := x; c < x+width; c++ {
		if dm[c] >= 0 || dm[denmemsPerRow+c] >= 0 || w.def.denmem(h, c, 0) || w.def.denmem(h, c, 1) {
			return false
		}
	}
	return true
}

func (w *wafer) take(h, x, width int, k int32) {
	if w.denmem[h] == nil {
		w.denmem[h] = newDenmems()
	}
	for c := x; c < x+width; c++ {
		w.denmem[h][c], w.denmem[h][denmemsPerRow+c] = k, k
	}
	w.used[h] = true
}

func newDenmems() []int32 {
	d := make([]int32, numDenmems)
	for i := range d {
		d[i] = -1
	}
	return d
}

// slot finds the first place for a neuron of width w on HICANN h, in blocks
// from..to (exclusive), from column cursor[h] on.
func (w *wafer) slot(h, width, from, to int) int {
	if w.denmem[h] == nil {
		w.denmem[h] = newDenmems()
	}
	for b := from; b < to; b++ {
		for x := b * columnsPerBlock; x+width <= (b+1)*columnsPerBlock; x += width {
			if w.fits(h, x, width) {
				return x
			}
		}
	}
	return -1
}

// placeNeurons runs manual placement, then the default strategy, as
// marocco's NeuronPlacement does.
func (m *mapper) placeNeurons() error {
	d := m.d
	avail := m.availableHICANNs()
	sizeOf := make([]int, len(d.Populations))
	done := make([][]bool, len(d.Populations))
	for i := range d.Populations {
		sizeOf[i] = m.opts.NeuronSize
		done[i] = make([]bool, d.Populations[i].Size)
	}
	for _, r := range m.opts.Manual {
		if r.Population < 0 || r.Population >= len(d.Populations) {
			return fmt.Errorf("manual_placement: population %d does not exist", r.Population)
		}
		if isSource(d.Populations[r.Population].CellType) {
			// marocco places spike sources on the HICANNs manual placement names (placeInputs);
			// they have no denmems, so neither neuron blocks nor logical neurons apply.
			if len(r.Blocks) > 0 || len(r.Neurons) > 0 {
				return fmt.Errorf("manual_placement of %s: spike sources are placed on HICANNs (on_hicann), not on neuron blocks or neurons", d.PopName(r.Population))
			}
			if r.Mask != nil {
				return fmt.Errorf("manual_placement of %s: spike sources are placed as a whole population, not by a mask", d.PopName(r.Population))
			}
			continue
		}
		if r.Size != 0 {
			sizeOf[r.Population] = r.Size
		}
	}
	for _, r := range m.opts.Manual {
		p := r.Population
		if len(r.HICANNs) == 0 && len(r.Blocks) == 0 && len(r.Neurons) == 0 || isSource(d.Populations[p].CellType) {
			continue
		}
		size := sizeOf[p]
		if r.Size != 0 {
			size = r.Size
		}
		width := size / 2
		mask := r.Mask
		if mask == nil {
			mask = make([]int, d.Populations[p].Size)
			for i := range mask {
				mask[i] = i
			}
		}
		next := 0
		for _, idx := range mask {
			if idx < 0 || idx >= d.Populations[p].Size {
				return fmt.Errorf("manual_placement of %s: neuron %d does not exist (size %d)", d.PopName(p), idx, d.Populations[p].Size)
			}
			if done[p][idx] {
				continue
			}
			h, x := -1, -1
			switch {
			case len(r.Neurons) > 0:
				if next >= len(r.Neurons) {
					return fmt.Errorf("manual_placement.on_neuron of %s: %d logical neurons given for %d neurons", d.PopName(p), len(r.Neurons), len(mask))
				}
				h, x = r.Neurons[next][0], r.Neurons[next][1]
				next++
				if err := m.checkHICANN(h, avail, d.PopName(p)); err != nil {
					return err
				}
				if !m.w.fits(h, x, width) {
					return fmt.Errorf("manual_placement.on_neuron of %s: a neuron of size %d does not fit at NeuronOnHICANN(X(%d), top) on %s (taken, defect, or across a neuron block's edge)", d.PopName(p), size, x, hicannName(h))
				}
			case len(r.Blocks) > 0:
				for _, b := range r.Blocks {
					if err := m.checkHICANN(b[0], avail, d.PopName(p)); err != nil {
						return err
					}
					if x = m.w.slot(b[0], width, b[1], b[1]+1); x >= 0 {
						h = b[0]
						break
					}
				}
			default:
				for _, hh := range r.HICANNs {
					if err := m.checkHICANN(hh, avail, d.PopName(p)); err != nil {
						return err
					}
					if x = m.w.slot(hh, width, 0, numBlocks); x >= 0 {
						h = hh
						break
					}
				}
			}
			if h < 0 || x < 0 {
				where := fmt.Sprint(len(r.HICANNs), " HICANN(s)")
				if len(r.HICANNs) == 1 {
					where = hicannName(r.HICANNs[0])
				}
				if len(r.Blocks) > 0 {
					where = fmt.Sprint(len(r.Blocks), " neuron block(s)")
				}
				return fmt.Errorf("manual_placement of %s: unable to implement manual placement request: neuron %d of size %d does not fit on %s: its free, non-defect denmems are taken (a HICANN holds 512 denmems in 8 blocks of 64)", d.PopName(p), idx, size, where)
			}
			m.w.take(h, x, width, m.pl.add(p, idx, h, x, size))
			done[p][idx] = true
		}
	}
	// The default strategy: populations in order, from the wafer's centre.
	cursor := 0
	for p := range d.Populations {
		if isSource(d.Populations[p].CellType) {
			continue
		}
		width := sizeOf[p] / 2
		for idx := 0; idx < d.Populations[p].Size; idx++ {
			if done[p][idx] {
				continue
			}
			placedOne := false
			for cursor < len(avail) {
				h := avail[cursor]
				if x := m.w.slot(h, width, 0, numBlocks); x >= 0 {
					m.w.take(h, x, width, m.pl.add(p, idx, h, x, sizeOf[p]))
					placedOne = true
					break
				}
				cursor++
			}
			if !placedOne {
				return fmt.Errorf("%s: hardware capacity too low: neuron %d (size %d) finds no free denmems on the %d HICANNs available (%d logical neurons placed so far)", d.PopName(p), idx, sizeOf[p], len(avail), len(m.pl.pop))
			}
		}
	}
	return nil
}

func (m *mapper) checkHICANN(h int, avail []int, pop string) error {
	for _, a := range avail {
		if a == h {
			return nil
		}
	}
	why := "it is blacklisted on this wafer"
	if m.def.noBlacklist || m.def.missing[h] {
		why = "its defect data are missing and skip_hicanns_without_neuron_blacklisting is set (call marocco.neuron_placement.skip_hicanns_without_neuron_blacklisting(False))"
	}
	return fmt.Errorf("manual_placement of %s: unable to implement manual placement request: %s is not available: %s", pop, hicannName(h), why)
}

// availableHICANNs lists the HICANNs placement may use, in the default
// strategy's order.
func (m *mapper) availableHICANNs() []int {
	var out []int
	if m.def.noBlacklist && m.opts.skipUnblacklisted() {
		return nil
	}
	for _, h := range hicannOrder {
		if !m.def.hicann[h] && !(m.def.missing[h] && m.opts.skipUnblacklisted()) {
			out = append(out, h)
		}
	}
	return out
}

// l1AddressOrder returns the 59 usable L1 addresses in assignment order.
func l1AddressOrder(strategy string) []int8 {
	var asc []int8
	for a := 0; a < 64; a++ {
		if a == 0 || a&0xf == 1 {
			continue
		}
		asc = append(asc, int8(a))
	}
	switch strategy {
	case "low_first":
		return asc
	case "alternating":
		out := make([]int8, 0, len(asc))
		for i, j := 0, len(asc)-1; i <= j; i, j = i+1, j-1 {
			out = append(out, asc[j])
			if i != j {
				out = append(out, asc[i])
			}
		}
		return out
	}
	out := make([]int8, len(asc))
	for i := range asc {
		out[i] = asc[len(asc)-1-i]
	}
	return out
}

// routeMergers is merger routing (minimize_as_possible): on each HICANN,
// adjacent neuron blocks share a DNC merger while their neurons fit the
// merger's 59 L1 addresses; then each logical neuron gets an address.
func (m *mapper) routeMergers() {
	order := l1AddressOrder(m.opts.L1AddressAssignment)
	for h := 0; h < numHICANNs; h++ {
		if !m.w.used[h] {
			continue
		}
		// neurons per block, in column order
		var blocks [numBlocks][]int32
		dm := m.w.denmem[h]
		for x := 0; x < denmemsPerRow; x++ {
			k := dm[x]
			if k >= 0 && int(m.pl.x[k]) == x {
				blocks[x/columnsPerBlock] = append(blocks[x/columnsPerBlock], k)
			}
		}
		var group []int32
		flush := func(last int) {
			if len(group) == 0 {
				return
			}
			m.w.mergers[h][last] = 1
			for i, k := range group {
				m.pl.merger[k] = int8(last)
				m.pl.addr[k] = order[i]
			}
			group = group[:0]
		}
		lastBlock := -1
		for b := 0; b < numBlocks; b++ {
			if len(blocks[b]) == 0 {
				continue
			}
			if len(group)+len(blocks[b]) > l1Addresses || (lastBlock >= 0 && b != lastBlock+1) {
				flush(lastBlock)
			}
			group = append(group, blocks[b]...)
			lastBlock = b
		}
		flush(lastBlock)
	}
}

// placeInputs is input placement: each spike source population goes, in
// chunks of up to 59, onto free DNC mergers in input mode, near its
// targets, within the HICANN's and the FPGA's input bandwidth
// (bandwidth_utilization 0.8 of 1.78e7 Hz per HICANN, 1.25e8 Hz per FPGA,
// hardware time).
func (m *mapper) placeInputs(rates [][]float64, targets [][]int) error {
	d := m.d
	order := l1AddressOrder(m.opts.L1AddressAssignment)
	const util = 0.8
	for p := range d.Populations {
		if !isSource(d.Populations[p].CellType) {
			continue
		}
		var manual []int
		for _, r := range m.opts.Manual {
			if r.Population == p {
				manual = append(manual, r.HICANNs...)
			}
		}
		cands := append([]int(nil), targets[p]...)
		cands = append(cands, m.availableHICANNs()...)
		if len(cands) == 0 {
			cands = append(cands, hicannOrder...)
		}
		if len(manual) > 0 {
			cands = manual
		}
		n := d.Populations[p].Size
		for start := 0; start < n; {
			end := min(start+l1Addresses, n)
			ok := false
			for _, h := range cands {
				if m.def.hicann[h] {
					continue
				}
				mg := -1
				for k := numDNCMergers - 1; k >= 0; k-- {
					if m.w.mergers[h][k] == 0 && !m.def.merger(h, k) {
						mg = k
						break
					}
				}
				if mg < 0 {
					continue
				}
				// as many of the chunk as the bandwidth allows
				hr, fr := m.w.inRate[h], m.w.fpgaRate[reticleOf(h)]
				take := 0
				for i := start; i < end; i++ {
					r := rates[p][i] * speedup
					if hr+r > util*maxRateHICANN || fr+r > util*maxRateFPGA {
						break
					}
					hr += r
					fr += r
					take++
				}
				if take == 0 {
					continue
				}
				m.w.mergers[h][mg] = 2
				m.w.inRate[h], m.w.fpgaRate[reticleOf(h)] = hr, fr
				for i := start; i < start+take; i++ {
					k := m.pl.add(p, i, h, -1, 0)
					m.pl.merger[k] = int8(mg)
					m.pl.addr[k] = order[i-start]
				}
				start += take
				ok = true
				break
			}
			if !ok && len(manual) > 0 {
				return fmt.Errorf("manual_placement of %s: unable to implement manual placement request: spike sources %d..%d find no free DNC merger with input bandwidth left on %d named HICANN(s) (%.3g Hz biological per source)", d.PopName(p), start, end-1, len(manual), rates[p][start])
			}
			if !ok {
				return fmt.Errorf("%s: input placement failed for spike sources %d..%d: no HICANN has a free DNC merger with input bandwidth left (%.3g Hz biological per source; limits %.3g Hz per HICANN and %.3g Hz per FPGA in hardware time, 80%% usable)", d.PopName(p), start, end-1, rates[p][start], maxRateHICANN, maxRateFPGA)
			}
		}
	}
	return nil
}

const (
	maxRateHICANN = 1.78e7
	maxRateFPGA   = 1.25e8
)

// sortedUnique sorts and deduplicates.
func sortedUnique(xs []int) []int {
	sort.Ints(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
