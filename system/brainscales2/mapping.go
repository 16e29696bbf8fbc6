package brainscales2

import (
	"fmt"
	"math/bits"
	"sort"
)

// Mapping: neurons onto circuits, connections onto synapses.
//
// Each HXNeuron is one circuit, placed in population order on the circuits
// of the neuron permutation (by default 0, 1, 2, ...; circuits 0-255 are the
// top hemisphere, 256-511 the bottom one). A connection becomes one or more
// synapses in the column of its target circuit, in the synapse array of the
// target's hemisphere: |w| > 63 is spread over ceil(|w|/63) synapses in
// parallel (63, 63, ..., the rest), and the receptor type selects rows in
// excitatory or inhibitory mode. Rows come in pairs behind a synapse driver;
// a driver passes on the events of up to 64 sources, each told apart by its
// 6-bit address, and each of its rows has its own mode. Sources are placed
// one after another, first fit: a source's synapses for one receptor type
// form "layers" (the k-th synapse of the source in each column), and each
// layer takes the first row of the right mode whose columns are free, on a
// driver that already serves the source or still has a free address.

type bitset [numColumns / 64]uint64

func (b *bitset) set(i int)               { b[i/64] |= 1 << (i % 64) }
func (b *bitset) overlaps(o *bitset) bool { return b[0]&o[0]|b[1]&o[1]|b[2]&o[2]|b[3]&o[3] != 0 }
func (b *bitset) or(o *bitset) {
	for k := range b {
		b[k] |= o[k]
	}
}
func (b *bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

const (
	modeUnset = iota
	modeExc
	modeInh
)

type driverState struct {
	labels map[int32]int // source -> 6-bit address
}

type synram struct {
	rowMode [rowsPerSynram]int8
	rowUsed [rowsPerSynram]bitset
	drivers [driversPerSynram]driverState
	// source -> drivers it is routed to
	srcDrivers map[int32][]int
}

func newSynram() *synram {
	s := &synram{srcDrivers: map[int32][]int{}}
	for d := range s.drivers {
		s.drivers[d].labels = map[int32]int{}
	}
	return s
}

// busOf returns the PADI bus (0..3) of a driver: drivers are interleaved
// over the four buses.
func busOf(driver int) int { return driver % padiBusesPerHemi }

// demand is what one source needs in one hemisphere for one receptor type:
// per column, how many synapses.
type demand struct {
	count map[int]int
	// first projection that asked, for messages
	proj int
}

// connPlace is where one connection went.
type connPlace struct {
	hemi, col int
	rows      []int16 // one per parallel synapse
	weights   []int8
	receptor  int8 // modeExc or modeInh
}

type mapping struct {
	circuits     map[int][]int // HX population -> circuit per neuron
	synrams      [numHemispheres]*synram
	conns        [][]connPlace // per projection
	busMask      map[int32]uint8
	generators   map[int]int // on-chip source population -> generator
	rowsByProj   []map[int][]int
	synapsesUsed []int
}

// splitWeight returns the synapse weights that realise |w|: 63s and the rest.
func splitWeight(w int) []int8 {
	a := w
	if a < 0 {
		a = -a
	}
	n := max(1, (a+maxSynapseWeight-1)/maxSynapseWeight)
	out := make([]int8, n)
	for k := range out {
		out[k] = int8(min(a, maxSynapseWeight))
		a -= int(out[k])
	}
	return out
}

// placeSynapses places all connections; conns lists, per projection, each
// connection's (pre global id, target circuit, weight, receptor).
type connSpec struct {
	src      int32
	circuit  int
	weight   int
	receptor int8
}

// busConstraint returns the bus a source's drivers must be on (-1: any).
type busConstraint func(src int32) int

func (m *mapping) placeSynapses(specs [][]connSpec, constrain busConstraint, projName func(int) string, srcName func(int32) string) error {
	// Gather the demands per hemisphere, source and receptor.
	type dkey struct {
		hemi int
		src  int32
		rec  int8
	}
	dem := map[dkey]*demand{}
	m.conns = make([][]connPlace, len(specs))
	for p, cs := range specs {
		m.conns[p] = make([]connPlace, len(cs))
		for k, c := range cs {
			h, col := c.circuit/numColumns, c.circuit%numColumns
			key := dkey{h, c.src, c.receptor}
			d := dem[key]
			if d == nil {
				d = &demand{count: map[int]int{}, proj: p}
				dem[key] = d
			}
			ws := splitWeight(c.weight)
			m.conns[p][k] = connPlace{hemi: h, col: col, weights: ws, receptor: c.receptor,
				rows: make([]int16, len(ws))}
			// Remember which layer each parallel synapse is in.
			for j := range ws {
				m.conns[p][k].rows[j] = int16(d.count[col] + j)
			}
			d.count[col] += len(ws)
		}
	}
	keys := make([]dkey, 0, len(dem))
	for k := range dem {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		x, y := keys[a], keys[b]
		if x.hemi != y.hemi {
			return x.hemi < y.hemi
		}
		if x.src != y.src {
			return x.src < y.src
		}
		return x.rec < y.rec
	})
	// Place layer by layer; layerRow maps (key, layer) to its row.
	layerRow := map[dkey][]int{}
	for h := range m.synrams {
		m.synrams[h] = newSynram()
	}
	for _, key := range keys {
		d := dem[key]
		sr := m.synrams[key.hemi]
		layers := 0
		for _, n := range d.count {
			layers = max(layers, n)
		}
		if layers > rowsPerSynram {
			col := 0
			for c, n := range d.count {
				if n == layers {
					col = c
				}
			}
			return fmt.Errorf("%s: %s needs %d synapses in parallel onto the neuron in column %d of hemisphere %d; a column has %d synapse rows",
				projName(d.proj), srcName(key.src), layers, col, key.hemi, rowsPerSynram)
		}
		rows := make([]int, layers)
		for j := 0; j < layers; j++ {
			var need bitset
			for c, n := range d.count {
				if n > j {
					need.set(c)
				}
			}
			r := sr.place(key.src, key.rec, &need, constrain(key.src))
			if r < 0 {
				return m.rowsExhausted(key.hemi, d.proj, projName, srcName(key.src), constrain(key.src))
			}
			rows[j] = r
		}
		layerRow[key] = rows
	}
	// Resolve each connection's layers to rows, and the routes.
	m.busMask = map[int32]uint8{}
	m.rowsByProj = make([]map[int][]int, len(specs))
	m.synapsesUsed = make([]int, len(specs))
	for p, cs := range specs {
		rowsSeen := map[int]map[int]bool{}
		for k, c := range cs {
			cp := &m.conns[p][k]
			rows := layerRow[dkey{cp.hemi, c.src, c.receptor}]
			for j := range cp.rows {
				cp.rows[j] = int16(rows[cp.rows[j]])
				if rowsSeen[cp.hemi] == nil {
					rowsSeen[cp.hemi] = map[int]bool{}
				}
				rowsSeen[cp.hemi][int(cp.rows[j])] = true
			}
			m.synapsesUsed[p] += len(cp.rows)
		}
		m.rowsByProj[p] = map[int][]int{}
		for h, set := range rowsSeen {
			var rs []int
			for r := range set {
				rs = append(rs, r)
			}
			sort.Ints(rs)
			m.rowsByProj[p][h] = rs
		}
	}
	for h, sr := range m.synrams {
		for src, ds := range sr.srcDrivers {
			for _, d := range ds {
				m.busMask[src] |= 1 << (h*padiBusesPerHemi + busOf(d))
			}
		}
	}
	return nil
}

// place finds a row for one layer of a source and returns it, or -1.
func (s *synram) place(src int32, rec int8, need *bitset, bus int) int {
	for d := 0; d < driversPerSynram; d++ {
		if bus >= 0 && busOf(d) != bus {
			continue
		}
		dr := &s.drivers[d]
		_, has := dr.labels[src]
		if !has && len(dr.labels) >= labelsPerDriver {
			continue
		}
		for r := 2 * d; r < 2*d+2; r++ {
			if (s.rowMode[r] != modeUnset && s.rowMode[r] != rec) || s.rowUsed[r].overlaps(need) {
				continue
			}
			s.rowMode[r] = rec
			s.rowUsed[r].or(need)
			if !has {
				dr.labels[src] = len(dr.labels)
				s.srcDrivers[src] = append(s.srcDrivers[src], d)
			}
			return r
		}
	}
	return -1
}

func (m *mapping) rowsExhausted(h, proj int, projName func(int) string, src string, bus int) error {
	sr := m.synrams[h]
	exc, inh := 0, 0
	for r := range sr.rowMode {
		switch sr.rowMode[r] {
		case modeExc:
			exc++
		case modeInh:
			inh++
		}
	}
	where := ""
	if bus >= 0 {
		where = fmt.Sprintf(" on the 32 drivers of PADI bus %d (its background spike generator's bus)", bus)
	}
	return fmt.Errorf("%s: no synapse row is left in hemisphere %d for %s%s: the hemisphere has %d rows behind %d synapse drivers "+
		"(2 rows each, up to %d sources per driver), and %d excitatory and %d inhibitory rows are taken",
		projName(proj), h, src, where, rowsPerSynram, driversPerSynram, labelsPerDriver, exc, inh)
}

// usage summarises the synapse arrays for the plan's info.
func (m *mapping) usage() []map[string]any {
	var out []map[string]any
	for h, sr := range m.synrams {
		exc, inh, syn := 0, 0, 0
		drivers := map[int]bool{}
		for r := range sr.rowMode {
			switch sr.rowMode[r] {
			case modeExc:
				exc++
			case modeInh:
				inh++
			}
			if sr.rowMode[r] != modeUnset {
				drivers[r/2] = true
			}
			syn += sr.rowUsed[r].count()
		}
		out = append(out, map[string]any{"hemisphere": h, "rows_excitatory": exc, "rows_inhibitory": inh,
			"rows_free": rowsPerSynram - exc - inh, "synapse_drivers": len(drivers), "synapses": syn, "sources": len(sr.srcDrivers)})
	}
	return out
}

// synapseCharge returns the synaptic charge of a connection in units of one
// full synapse (63) at the nominal DAC current: the sum of its synapses'
// weights, each with its synapse's mismatch.
func synapseCharge(cp *connPlace, cm *chipMismatch) float64 {
	q := 0.0
	for j, w := range cp.weights {
		q += float64(w) * cm.synapseGain(cp.hemi, int(cp.rows[j]), cp.col)
	}
	return q / maxSynapseWeight
}
