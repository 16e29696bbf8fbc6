package spinnaker

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
)

// The mapping, after PACMAN: partition every population into slices that
// fit a core, place the slices on cores keeping a population's slices
// together, give every slice a routing key and mask, route each slice's
// multicast packets to the cores its synapses are on (longest dimension
// first, around faults), build every chip's routing table, remove the
// entries default routing covers, compress what is left, and fail as PACMAN
// does when a table still exceeds the router.

// vertex is one population (or one population's delay extension).
type vertex struct {
	pop      int
	name     string
	size     int
	atoms    int // atoms per core
	neuron   bool
	delayExt bool
	slices   []int
}

// slice is one machine vertex: atoms [lo, hi) of a vertex on one core.
type slice struct {
	vertex int
	index  int // among the vertex's slices
	lo, hi int
	chip   *Chip
	core   int
	key    uint32
	mask   uint32
	sdram  int
	dtcm   int
	// targets are the slices its packets go to (sorted, unique).
	targets []int
}

// tableEntry is one multicast routing entry.
type tableEntry struct {
	key, mask uint32
	route     uint32 // bits 0..5 links, 6.. cores
	space     int    // the slice's index in the key space (key >> atomBits)
	arrive    int    // link the packet travels along into the chip; -1 at its source
}

// mapping is the outcome.
type mapping struct {
	m        *Machine
	vertices []vertex
	slices   []slice
	atomBits uint
	// spaceLimit bounds the key space (in slices): a power of two.
	spaceLimit int
	tables     map[*Chip][]tableEntry
	// before is the number of entries before compression and default-route
	// removal, per chip.
	before map[*Chip]int
	// tree is, per slice, the chips its packets pass (for router load),
	// and treeLinks the links its packets leave each chip by.
	tree      [][]*Chip
	treeLinks []map[*Chip]uint32
}

func routeCore(p int) uint32 { return 1 << (6 + uint(p)) }

// partition splits every vertex into slices of at most its atoms per core,
// fewer where a core's DTCM would not hold them.
func (mp *mapping) partition(fits func(v *vertex, n int) (dtcm, sdram int, ok bool)) error {
	for vi := range mp.vertices {
		v := &mp.vertices[vi]
		atoms := v.atoms
		for {
			if atoms < 1 {
				_, _, _ = fits(v, 1)
				d, s, _ := fits(v, 1)
				return fmt.Errorf("%s: one neuron does not fit a core (it needs %d bytes of DTCM, a core has %d, and %d bytes of SDRAM)", v.name, d, dtcmBytes, s)
			}
			if _, _, ok := fits(v, min(atoms, v.size)); ok {
				break
			}
			atoms = atoms * 3 / 4
		}
		v.atoms = atoms
		for lo := 0; lo < v.size; lo += atoms {
			hi := min(lo+atoms, v.size)
			d, s, _ := fits(v, hi-lo)
			v.slices = append(v.slices, len(mp.slices))
			mp.slices = append(mp.slices, slice{vertex: vi, index: len(v.slices) - 1, lo: lo, hi: hi, dtcm: d, sdram: s})
		}
	}
	return nil
}

// place puts the slices on cores in vertex order, filling each chip before
// the next, so that a population's slices sit together (ApplicationPlacer).
func (mp *mapping) place() error {
	chips := mp.m.Chips()
	ci, used, sdram := 0, 0, 0
	free := func(c *Chip) []int {
		dead := map[int]bool{}
		for _, d := range c.DeadCores {
			dead[d] = true
		}
		var out []int
		for p := monitorCores; p < c.Cores; p++ {
			if !dead[p] {
				out = append(out, p)
			}
		}
		return out
	}
	var cores []int
	if len(chips) > 0 {
		cores = free(chips[0])
	}
	for si := range mp.slices {
		s := &mp.slices[si]
		for ci < len(chips) && (used >= len(cores) || sdram+s.sdram > chips[ci].SDRAM) {
			ci++
			used, sdram = 0, 0
			if ci < len(chips) {
				cores = free(chips[ci])
			}
		}
		if ci >= len(chips) {
			v := &mp.vertices[s.vertex]
			return fmt.Errorf("%s: the machine is full: the network needs %d cores (slices of at most %d neurons) and the machine (%d chips) has %d application cores; ask for more boards (setup(n_boards_required=...)) or use fewer neurons",
				v.name, len(mp.slices), v.atoms, len(chips), mp.m.AppCores())
		}
		s.chip, s.core = chips[ci], cores[used]
		used++
		sdram += s.sdram
	}
	return nil
}

// allocateKeys gives every slice a key: | vertex | slice | atom |, the
// slice field as wide as the vertex with most slices needs, the atom field
// as wide as the largest slice (ZonedRoutingInfoAllocator's layout).
func (mp *mapping) allocateKeys() error {
	maxAtoms, maxSlices := 1, 1
	for _, v := range mp.vertices {
		maxAtoms = max(maxAtoms, v.atoms)
		maxSlices = max(maxSlices, len(v.slices))
	}
	ab := uint(bits.Len(uint(maxAtoms - 1)))
	sb := uint(bits.Len(uint(maxSlices - 1)))
	vb := uint(bits.Len(uint(len(mp.vertices))))
	if ab+sb+vb > 32 {
		return fmt.Errorf("the network needs %d key bits (%d vertices, %d slices, %d atoms), more than a packet's 32", ab+sb+vb, len(mp.vertices), maxSlices, maxAtoms)
	}
	mp.atomBits = ab
	mp.spaceLimit = 1 << (vb + sb)
	for si := range mp.slices {
		s := &mp.slices[si]
		space := s.vertex<<sb | s.index
		s.key = uint32(space) << ab
		s.mask = ^uint32(0) << ab
	}
	return nil
}

// route builds the multicast trees and the routing tables.
func (mp *mapping) route() error {
	mp.tables = map[*Chip][]tableEntry{}
	mp.before = map[*Chip]int{}
	mp.tree = make([][]*Chip, len(mp.slices))
	mp.treeLinks = make([]map[*Chip]uint32, len(mp.slices))
	passes := map[*Chip]map[int]uint32{} // chip -> space -> route, for every slice through it
	kept := map[*Chip]map[int]bool{}
	for si := range mp.slices {
		s := &mp.slices[si]
		if len(s.targets) == 0 {
			continue
		}
		out := map[*Chip]uint32{}
		arrive := map[*Chip]int{s.chip: -1}
		order := []*Chip{s.chip}
		for _, ti := range s.targets {
			t := &mp.slices[ti]
			if err := mp.walk(s.chip, t.chip, out, arrive, &order); err != nil {
				return fmt.Errorf("%s: %w", mp.sliceName(si), err)
			}
			out[t.chip] |= routeCore(t.core)
		}
		space := int(s.key >> mp.atomBits)
		mp.treeLinks[si] = map[*Chip]uint32{}
		for c, r := range out {
			if r&0x3F != 0 {
				mp.treeLinks[si][c] = r & 0x3F
			}
		}
		for _, c := range order {
			r := out[c]
			mp.tree[si] = append(mp.tree[si], c)
			if passes[c] == nil {
				passes[c] = map[int]uint32{}
				kept[c] = map[int]bool{}
			}
			passes[c][space] = r
			mp.before[c]++
			a := arrive[c]
			if a >= 0 && r == 1<<uint(a) {
				continue // straight through: default routing does it
			}
			kept[c][space] = true
			mp.tables[c] = append(mp.tables[c], tableEntry{key: s.key, mask: s.mask, route: r, space: space, arrive: a})
		}
	}
	for c, es := range mp.tables {
		mp.tables[c] = compress(es, passes[c], kept[c], mp.atomBits, mp.spaceLimit)
		if len(mp.tables[c]) > c.Router {
			return fmt.Errorf("chip (%d, %d): The routing table after compression will still not fit: it needs %d entries (%d before compression) and the router has %d for applications (routed through it: %s); spread the network over more boards or chips, or put more neurons on each core",
				c.X, c.Y, len(mp.tables[c]), mp.before[c], c.Router, mp.namesThrough(c))
		}
	}
	return nil
}

// walk adds the path from a to b to a tree: where the path meets a chip
// the tree already reaches along another link, it continues from there.
func (mp *mapping) walk(a, b *Chip, out map[*Chip]uint32, arrive map[*Chip]int, order *[]*Chip) error {
	c := a
	limit := 4 * (mp.m.Width + mp.m.Height)
	for steps := 0; c != b; steps++ {
		if steps > limit {
			return fmt.Errorf("no route from chip (%d, %d) to chip (%d, %d) within %d hops", a.X, a.Y, b.X, b.Y, limit)
		}
		p, err := mp.path(c, b)
		if err != nil {
			return err
		}
		rejoined := false
		for _, d := range p {
			n := mp.m.Neighbour(c, d)
			if got, seen := arrive[n]; seen && got != d {
				c, rejoined = n, true
				break
			}
			out[c] |= 1 << uint(d)
			if _, seen := arrive[n]; !seen {
				arrive[n] = d
				*order = append(*order, n)
			}
			c = n
		}
		if !rejoined && c != b {
			return fmt.Errorf("internal: route from chip (%d, %d) to chip (%d, %d) ended at (%d, %d)", a.X, a.Y, b.X, b.Y, c.X, c.Y)
		}
	}
	return nil
}

func (mp *mapping) sliceName(si int) string {
	s := &mp.slices[si]
	return fmt.Sprintf("%s (neurons %d..%d)", mp.vertices[s.vertex].name, s.lo, s.hi-1)
}

func (mp *mapping) namesThrough(c *Chip) string {
	seen := map[string]bool{}
	var names []string
	for si := range mp.slices {
		for _, t := range mp.tree[si] {
			if t == c {
				n := mp.vertices[mp.slices[si].vertex].name
				if !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
		}
	}
	if len(names) > 8 {
		names = append(names[:8], fmt.Sprintf("and %d more", len(names)-8))
	}
	return strings.Join(names, ", ")
}

// path returns the links from a to b: longest dimension first on the
// triangular mesh (the shortest of the wrapped alternatives), or, where
// that meets a dead chip or link, a shortest path around the faults.
func (mp *mapping) path(a, b *Chip) ([]int, error) {
	if a == b {
		return nil, nil
	}
	m := mp.m
	best := []int(nil)
	dxs, dys := []int{b.X - a.X}, []int{b.Y - a.Y}
	if m.Wrap {
		dxs = append(dxs, b.X-a.X+m.Width, b.X-a.X-m.Width)
		dys = append(dys, b.Y-a.Y+m.Height, b.Y-a.Y-m.Height)
	}
	for _, dx := range dxs {
		for _, dy := range dys {
			p := ldf(dx, dy)
			if best == nil || len(p) < len(best) {
				best = p
			}
		}
	}
	c := a
	ok := true
	for _, d := range best {
		if c = m.Neighbour(c, d); c == nil {
			ok = false
			break
		}
	}
	if ok && c == b {
		return best, nil
	}
	return mp.detour(a, b)
}

// ldf is the longest-dimension-first route of the vector (dx, dy) in the
// three dimensions of the mesh (x, y and the north-east diagonal), reduced
// to its shortest form by taking the median out.
func ldf(dx, dy int) []int {
	m := median3(dx, dy, 0)
	x, y, z := dx-m, dy-m, m // z counts north-east moves
	type dim struct{ n, pos, neg int }
	ds := []dim{{x, 0, 3}, {y, 2, 5}, {z, 1, 4}}
	sort.SliceStable(ds, func(i, j int) bool { return abs(ds[i].n) > abs(ds[j].n) })
	var out []int
	for _, d := range ds {
		link := d.pos
		if d.n < 0 {
			link = d.neg
		}
		for k := 0; k < abs(d.n); k++ {
			out = append(out, link)
		}
	}
	return out
}

func median3(a, b, c int) int {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	if a > b {
		return a
	}
	return b
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// detour is a breadth-first shortest path over working chips and links.
func (mp *mapping) detour(a, b *Chip) ([]int, error) {
	type hop struct {
		from *Chip
		link int
	}
	prev := map[*Chip]hop{a: {nil, -1}}
	queue := []*Chip{a}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == b {
			var out []int
			for c != a {
				h := prev[c]
				out = append(out, h.link)
				c = h.from
			}
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
			return out, nil
		}
		for d := 0; d < linksPerChip; d++ {
			n := mp.m.Neighbour(c, d)
			if n == nil {
				continue
			}
			if _, seen := prev[n]; !seen {
				prev[n] = hop{c, d}
				queue = append(queue, n)
			}
		}
	}
	return nil, fmt.Errorf("no route from chip (%d, %d) to chip (%d, %d): the dead chips and links cut them apart", a.X, a.Y, b.X, b.Y)
}

// compress merges a chip's entries with equal routes into aligned blocks
// of the key space, as long as a block covers no key that reaches the chip
// with another route (or is default-routed through it): keys that never
// reach the chip are free to cover.
func compress(es []tableEntry, passes map[int]uint32, kept map[int]bool, atomBits uint, limit int) []tableEntry {
	sort.Slice(es, func(i, j int) bool { return es[i].space < es[j].space })
	done := map[int]bool{}
	var out []tableEntry
	for _, e := range es {
		if done[e.space] {
			continue
		}
		ok := func(s int) bool {
			r, through := passes[s]
			return !through || (kept[s] && r == e.route)
		}
		k := uint(0)
		for k < 24 {
			lo := (e.space >> (k + 1)) << (k + 1)
			if lo+(1<<(k+1)) > limit {
				break
			}
			good := true
			for s := lo; s < lo+(1<<(k+1)); s++ {
				if !ok(s) {
					good = false
					break
				}
			}
			if !good {
				break
			}
			k++
		}
		lo := (e.space >> k) << k
		for s := lo; s < lo+(1<<k); s++ {
			if _, through := passes[s]; through {
				done[s] = true
			}
		}
		out = append(out, tableEntry{key: uint32(lo) << atomBits, mask: ^uint32(0) << (atomBits + k), route: e.route, space: lo})
	}
	return out
}
