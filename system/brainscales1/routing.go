package brainscales1

import (
	"math"
	"sort"
)

// Loss causes, counted where they occur.
const (
	realized uint8 = iota
	lostL1
	lostDriver
	lostSynapse
)

// arrival is a route arriving at a target HICANN on a vertical bus.
type arrival struct {
	route int32
	side  int8  // 0 left, 1 right: the drivers the bus reaches
	vline int16 // VLineOnHICANN
}

// l1 holds the L1 network's use.
type l1 struct {
	hUsed [numHICANNs]int
	vUsed [numHICANNs][2]int
	// at[h] lists the routes arriving at HICANN h.
	at [numHICANNs][]arrival
	// failed counts (route, target HICANN) pairs that could not be routed.
	failed int
}

func (m *mapper) hFree(h int) bool {
	return h >= 0 && !m.def.hicann[h] && m.net.hUsed[h] < numHLines-m.def.hbus[h]
}

func (m *mapper) vFree(h, s int) bool {
	return h >= 0 && !m.def.hicann[h] && m.net.vUsed[h][s] < vlinesPerSide-m.def.vbus[h][s]
}

// routeL1 routes every output that has targets to its target HICANNs
// (the backbone strategy: a horizontal backbone along the source's row,
// vertical ribs to the targets), taking buses as it goes; a route that
// meets a missing HICANN or a full bus loses its targets beyond.
func (m *mapper) routeL1(targets map[int32][]int) {
	ids := make([]int32, 0, len(targets))
	for r := range targets {
		ids = append(ids, r)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, r := range ids {
		src := int(m.routes[r].hicann)
		xs, ys := hicannXY[src][0], hicannXY[src][1]
		cols := map[int][]int{}
		for _, t := range targets[r] {
			cols[hicannXY[t][0]] = append(cols[hicannXY[t][0]], t)
		}
		// the sending repeater drives a horizontal bus on the source HICANN
		if !m.hFree(src) {
			for _, ts := range cols {
				m.net.failed += len(ts)
			}
			continue
		}
		m.net.hUsed[src]++
		reach := map[int]bool{xs: true}
		for _, dir := range []int{1, -1} {
			far := xs
			for x := range cols {
				if (x-xs)*dir > (far-xs)*dir {
					far = x
				}
			}
			for x := xs + dir; (far-x)*dir >= 0; x += dir {
				h := enumOf(x, ys)
				if !m.hFree(h) {
					break
				}
				m.net.hUsed[h]++
				reach[x] = true
			}
		}
		xsSorted := make([]int, 0, len(cols))
		for x := range cols {
			xsSorted = append(xsSorted, x)
		}
		sort.Ints(xsSorted)
		for _, x := range xsSorted {
			ts := cols[x]
			if !reach[x] {
				m.net.failed += len(ts)
				continue
			}
			// the rib's side: the one with more free vertical buses here
			h0 := enumOf(x, ys)
			side := 0
			if m.net.vUsed[h0][1]+m.def.vbus[h0][1] < m.net.vUsed[h0][0]+m.def.vbus[h0][0] {
				side = 1
			}
			ok := map[int]int16{}
			for _, dir := range []int{1, -1} {
				far := ys
				for _, t := range ts {
					if (hicannXY[t][1]-ys)*dir > (far-ys)*dir {
						far = hicannXY[t][1]
					}
				}
				if far == ys && dir == -1 {
					continue
				}
				start := ys
				if dir == -1 {
					start = ys - 1
				}
				for y := start; (far-y)*dir >= 0; y += dir {
					h := enumOf(x, y)
					if !m.vFree(h, side) {
						break
					}
					ok[y] = int16(side*vlinesPerSide + m.net.vUsed[h][side])
					m.net.vUsed[h][side]++
				}
			}
			for _, t := range ts {
				v, fine := ok[hicannXY[t][1]]
				if !fine {
					m.net.failed++
					continue
				}
				m.net.at[t] = append(m.net.at[t], arrival{route: r, side: int8(side), vline: v})
			}
		}
	}
}

// inRoute is one route's needs on one target HICANN.
type inRoute struct {
	arr   arrival
	conns []int64 // global connection ids
	// half[s][g][p]: half rows needed for synaptic input s, driver
	// decoder g (the L1 address' 2 MSBs) and column parity p.
	half    [2][4][2]int
	rows    int
	drivers int
	// assigned drivers (indices 0..223)
	got []int
}

// reachable lists the drivers a vertical bus reaches on its side: 14, 7 in
// each quadrant, every 8th driver from an offset set by the bus.
func reachable(vline int, side int) []int {
	off := vline % 8
	out := make([]int, 0, 14)
	for vert := 0; vert < 2; vert++ {
		for q := off; q < driversPerQuad; q += 8 {
			out = append(out, driverIndex(vert, side, q))
		}
	}
	return out
}

// driverIndex numbers drivers: top half first; within a half, position q
// in the quadrant and the side alternate (left even, right odd).
func driverIndex(vert, side, q int) int { return vert*driversPerSide + 2*q + side }

func driverPos(i int) (vert, side, q int) {
	return i / driversPerSide, i % 2, (i % driversPerSide) / 2
}

// fieres assigns drivers to the routes arriving on one side of a HICANN:
// at most the chain length each, normalised by synapse share when too few
// drivers are free (Jeltsch 2014, Eq. 6.10), packed around a primary driver
// the route's bus reaches, smallest fitting gap first.
func (m *mapper) fieres(h, side int, rs []*inRoute) {
	if len(rs) == 0 {
		return
	}
	chain := min(m.opts.DriverChainLength, maxChain)
	avail := driversPerSide
	var taken [2][driversPerQuad]bool // per vertical half
	for i := 0; i < numDrivers; i++ {
		if vert, s, q := driverPos(i); s == side && m.def.driver(h, i) {
			taken[vert][q] = true
			avail--
		}
	}
	requested, syns := 0, 0
	for _, r := range rs {
		requested += r.drivers
		syns += len(r.conns)
	}
	want := make([]int, len(rs))
	if requested <= avail {
		for i, r := range rs {
			want[i] = min(chain, r.drivers)
		}
	} else {
		total := 0
		for i, r := range rs {
			share := float64(len(r.conns)) / float64(syns) * float64(avail)
			want[i] = min(chain, max(1, min(r.drivers, int(share))))
			total += want[i]
		}
		for changed := true; total < avail && changed; {
			changed = false
			for i, r := range rs {
				if total < avail && want[i] < min(chain, r.drivers) {
					want[i]++
					total++
					changed = true
				}
			}
		}
		for i := len(rs) - 1; total > avail && i >= 0; i-- {
			for total > avail && want[i] > 1 {
				want[i]--
				total--
			}
		}
	}
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(rs[order[a]].conns) > len(rs[order[b]].conns) })
	for _, i := range order {
		r := rs[i]
		length := want[i]
		type option struct{ vert, q, gap int }
		var opts []option
		for _, d := range reachable(int(r.arr.vline), side) {
			vert, _, q := driverPos(d)
			if taken[vert][q] {
				continue
			}
			gap := 1
			for k := q + 1; k < driversPerQuad && !taken[vert][k]; k++ {
				gap++
			}
			for k := q - 1; k >= 0 && !taken[vert][k]; k-- {
				gap++
			}
			opts = append(opts, option{vert, q, gap})
		}
		if len(opts) == 0 {
			continue // rejected: every reachable driver is taken
		}
		sort.Slice(opts, func(a, b int) bool {
			if opts[a].gap != opts[b].gap {
				return opts[a].gap < opts[b].gap
			}
			if opts[a].vert != opts[b].vert {
				return opts[a].vert < opts[b].vert
			}
			return opts[a].q < opts[b].q
		})
		ch := opts[len(opts)-1]
		for _, o := range opts {
			if o.gap >= length {
				ch = o
				break
			}
		}
		length = min(length, ch.gap)
		// up to length-1 above the primary, the rest below
		lo := ch.q
		for lo > 0 && ch.q-lo < length-1 && !taken[ch.vert][lo-1] {
			lo--
		}
		for k, n := lo, 0; n < length; k, n = k+1, n+1 {
			if k >= driversPerQuad || taken[ch.vert][k] {
				break
			}
			taken[ch.vert][k] = true
			r.got = append(r.got, driverIndex(ch.vert, side, k))
		}
	}
}

// requirements computes a route's half rows on a HICANN, as marocco's
// SynapseDriverRequirements: per target neuron, the synapses from each
// decoder group onto each synaptic input, spread over the neuron's columns
// of each parity; the maximum over neurons per (input, decoder, parity).
func (m *mapper) requirements(h int, r *inRoute, counts *[denmemsPerRow][2][4]int32, touched *[]int16) {
	*touched = (*touched)[:0]
	for _, g := range r.conns {
		c := m.conn(g)
		x := m.pl.x[c.tgt]
		if counts[x][0][0]|counts[x][0][1]|counts[x][0][2]|counts[x][0][3]|counts[x][1][0]|counts[x][1][1]|counts[x][1][2]|counts[x][1][3] == 0 {
			*touched = append(*touched, x)
		}
		counts[x][c.input][m.pl.addr[c.src]>>4]++
	}
	r.half = [2][4][2]int{}
	for _, x := range *touched {
		k := m.w.denmem[h][x]
		width := int(m.pl.size[k]) / 2
		for s := 0; s < 2; s++ {
			for g := 0; g < 4; g++ {
				n := int(counts[x][s][g])
				if n == 0 {
					continue
				}
				h := (n + width - 1) / width
				if width == 1 {
					p := int(x) % 2
					r.half[s][g][p] = max(r.half[s][g][p], n)
					continue
				}
				for p := 0; p < 2; p++ {
					r.half[s][g][p] = max(r.half[s][g][p], h)
				}
			}
		}
		counts[x] = [2][4]int32{}
	}
	r.rows = 0
	for s := 0; s < 2; s++ {
		var even, odd int
		for g := 0; g < 4; g++ {
			even += r.half[s][g][0]
			odd += r.half[s][g][1]
		}
		r.rows += max(even, odd)
	}
	r.drivers = (r.rows + 1) / 2
}

// assignSynapses gives a route's connections synapses in the rows of its
// drivers: rows are shared out to (input, decoder, parity) in proportion to
// the need when there are too few; a connection whose target neuron has no
// free synapse left in a matching half row is lost.
func (m *mapper) assignSynapses(h int, r *inRoute, rowCfg *[numRows]rowConfig) {
	if len(r.got) == 0 {
		for _, g := range r.conns {
			m.lose(g, lostDriver)
		}
		return
	}
	sort.Ints(r.got)
	var rows []int
	for _, d := range r.got {
		rows = append(rows, 2*d, 2*d+1)
	}
	// rows per synaptic input
	var need [2]int
	for s := 0; s < 2; s++ {
		var even, odd int
		for g := 0; g < 4; g++ {
			even += r.half[s][g][0]
			odd += r.half[s][g][1]
		}
		need[s] = max(even, odd)
	}
	have := len(rows)
	var share [2]int
	if need[0]+need[1] <= have {
		share = need
		share[0] += have - need[0] - need[1] // spare rows go to input 0
		if need[0] == 0 {
			share[0], share[1] = 0, have
		}
	} else {
		share[0] = int(math.Round(float64(need[0]) * float64(have) / float64(need[0]+need[1])))
		if need[0] > 0 && share[0] == 0 {
			share[0] = 1
		}
		if need[1] > 0 && share[0] == have {
			share[0] = have - 1
		}
		share[1] = have - share[0]
	}
	// half rows per (input, decoder, parity)
	var alloc [2][4][2][]int // row numbers
	next := 0
	for s := 0; s < 2; s++ {
		mine := rows[next : next+share[s]]
		next += share[s]
		for p := 0; p < 2; p++ {
			tot := 0
			for g := 0; g < 4; g++ {
				tot += r.half[s][g][p]
			}
			if tot == 0 {
				continue
			}
			counts := apportion(r.half[s][:], p, len(mine), tot)
			k := 0
			for g := 0; g < 4; g++ {
				for n := 0; n < counts[g]; n++ {
					row := mine[k]
					k++
					alloc[s][g][p] = append(alloc[s][g][p], row)
					rc := &rowCfg[row]
					rc.input = int8(s)
					rc.decoder[p] = int8(g)
					rc.used = true
				}
			}
		}
	}
	// per target neuron, fill its slots in connection order
	type slotKey struct {
		x    int16
		s, g int8
	}
	cursor := map[slotKey]int{}
	for _, gid := range r.conns {
		c := m.conn(gid)
		k := c.tgt
		x0, width := int(m.pl.x[k]), int(m.pl.size[k])/2
		s, g := c.input, int(m.pl.addr[c.src]>>4)
		key := slotKey{int16(x0), int8(s), int8(g)}
		// the slots: for each column of the neuron, the half rows of its
		// parity; a defect synapse is passed over
		row, col := -1, -1
		for p := cursor[key]; row < 0; p++ {
			n, found := p, false
			for cx := x0; cx < x0+width; cx++ {
				hr := alloc[s][g][cx%2]
				if n < len(hr) {
					row, col, found = hr[n], cx, true
					break
				}
				n -= len(hr)
			}
			if !found {
				cursor[key] = p
				break
			}
			if m.def.synapse(h, row, col) {
				row = -1
				continue
			}
			cursor[key] = p + 1
		}
		if row < 0 {
			m.lose(gid, lostSynapse)
			continue
		}
		m.realize(gid, h, row, col)
	}
}

// apportion shares n half rows among decoders by their need at parity p
// (largest remainders), each at most its need.
func apportion(half [][2]int, p, n, total int) [4]int {
	var out [4]int
	if total <= n {
		for g := range half {
			out[g] = half[g][p]
		}
		return out
	}
	used := 0
	var rem [4]float64
	for g := range half {
		x := float64(half[g][p]) * float64(n) / float64(total)
		out[g] = int(x)
		rem[g] = x - float64(out[g])
		used += out[g]
	}
	for used < n {
		best := -1
		for g := range half {
			if out[g] < half[g][p] && (best < 0 || rem[g] > rem[best]) {
				best = g
			}
		}
		if best < 0 {
			break
		}
		out[best]++
		rem[best] = -1
		used++
	}
	return out
}

// rowConfig is a synapse row's configuration.
type rowConfig struct {
	used    bool
	input   int8    // synaptic input the row drives (0 exc, 1 inh)
	decoder [2]int8 // driver decoder of the even and odd half
	divSum  int     // gmax_div left + right
	vgmax   int8    // selgmax: which V_gmax of the quadrant's block
	maxRel  float64 // largest weight on the row relative to its target's g_max
}
