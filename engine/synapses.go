package engine

import (
	"sort"
)

// csr holds synapses in compressed rows: the synapses of presynaptic global
// neuron preLo+r are entries rowPtr[r] to rowPtr[r+1], ordered by target.
// Static synapses take 8 bytes (target, weight) and 2 more where delays
// differ within the projection.
type csr struct {
	preLo  int32
	rowPtr []int64
	target []uint32
	weight []float32
	// delay in steps per synapse; nil when all synapses share delay0.
	delay  []uint16
	delay0 uint16
	// extra holds other per-synapse parameters (U, tau_rec, ...) where they
	// differ between synapses, in the same order.
	extra map[string][]float64
}

func (c *csr) rows() int { return len(c.rowPtr) - 1 }

func (c *csr) len() int {
	if len(c.rowPtr) == 0 {
		return 0
	}
	return int(c.rowPtr[len(c.rowPtr)-1])
}

// delayAt returns the delay of synapse s in steps.
func (c *csr) delayAt(s int64) int {
	if c.delay == nil {
		return int(c.delay0)
	}
	return int(c.delay[s])
}

// maxDelay returns the largest delay in steps.
func (c *csr) maxDelay() int {
	if c.delay == nil {
		return int(c.delay0)
	}
	m := 0
	for _, d := range c.delay {
		m = max(m, int(d))
	}
	return m
}

// split partitions c by target into the ranges [bounds[k], bounds[k+1]),
// preserving the order within each row. Concatenating the rows of the parts
// in order gives back the rows of c.
func (c *csr) split(bounds []int) []*csr {
	nparts := len(bounds) - 1
	if nparts == 1 {
		return []*csr{c}
	}
	parts := make([]*csr, nparts)
	nrows := c.rows()
	// Within a row, targets are sorted: each part is a contiguous run.
	cuts := make([]int64, (nparts+1)*nrows)
	counts := make([]int64, nparts)
	for r := 0; r < nrows; r++ {
		a, b := c.rowPtr[r], c.rowPtr[r+1]
		row := c.target[a:b]
		base := r * (nparts + 1)
		cuts[base] = a
		for k := 1; k < nparts; k++ {
			lim := uint32(bounds[k])
			cuts[base+k] = a + int64(sort.Search(len(row), func(i int) bool { return row[i] >= lim }))
		}
		cuts[base+nparts] = b
		for k := 0; k < nparts; k++ {
			counts[k] += cuts[base+k+1] - cuts[base+k]
		}
	}
	for k := range parts {
		p := &csr{preLo: c.preLo, rowPtr: make([]int64, nrows+1), target: make([]uint32, 0, counts[k]),
			weight: make([]float32, 0, counts[k]), delay0: c.delay0}
		if c.delay != nil {
			p.delay = make([]uint16, 0, counts[k])
		}
		if c.extra != nil {
			p.extra = map[string][]float64{}
			for name := range c.extra {
				p.extra[name] = make([]float64, 0, counts[k])
			}
		}
		for r := 0; r < nrows; r++ {
			a, b := cuts[r*(nparts+1)+k], cuts[r*(nparts+1)+k+1]
			p.target = append(p.target, c.target[a:b]...)
			p.weight = append(p.weight, c.weight[a:b]...)
			if c.delay != nil {
				p.delay = append(p.delay, c.delay[a:b]...)
			}
			for name, xs := range c.extra {
				p.extra[name] = append(p.extra[name], xs[a:b]...)
			}
			p.rowPtr[r+1] = int64(len(p.target))
		}
		parts[k] = p
	}
	return parts
}

// rowBuilder accumulates synapses row by row, in any row order, and
// assembles a csr ordered by global presynaptic index.
type rowBuilder struct {
	preLo, preHi int32
	blocks       []*rowBlock
}

// rowBlock is a batch of rows generated together (by one worker).
type rowBlock struct {
	hetDelay bool
	rows     []int32 // global presynaptic index of each row, in generation order
	ends     []int64 // end offset of each row in the arrays below
	target   []uint32
	weight   []float32
	delay    []uint16
	extra    map[string][]float64
}

// reserve makes room for n synapses.
func (b *rowBlock) reserve(n int) {
	b.target = make([]uint32, 0, n)
	b.weight = make([]float32, 0, n)
	if b.delay != nil || b.hetDelay {
		b.delay = make([]uint16, 0, n)
	}
	for name := range b.extra {
		b.extra[name] = make([]float64, 0, n)
	}
}

func (b *rowBlock) endRow(pre int32) {
	b.rows = append(b.rows, pre)
	b.ends = append(b.ends, int64(len(b.target)))
}

// sortRowTargets orders the synapses of the row ending at the last endRow by
// target, keeping multapses in generation order.
func (b *rowBlock) sortLastRow() {
	n := len(b.ends)
	start := int64(0)
	if n > 1 {
		start = b.ends[n-2]
	}
	end := b.ends[n-1]
	tg := b.target[start:end]
	if sort.SliceIsSorted(tg, func(i, j int) bool { return tg[i] < tg[j] }) {
		return
	}
	idx := make([]int, len(tg))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return tg[idx[i]] < tg[idx[j]] })
	permute32(b.target[start:end], idx)
	permuteF32(b.weight[start:end], idx)
	if b.delay != nil {
		permute16(b.delay[start:end], idx)
	}
	for _, xs := range b.extra {
		permuteF64(xs[start:end], idx)
	}
}

func permute32(xs []uint32, idx []int) {
	tmp := append([]uint32(nil), xs...)
	for i, j := range idx {
		xs[i] = tmp[j]
	}
}

func permuteF32(xs []float32, idx []int) {
	tmp := append([]float32(nil), xs...)
	for i, j := range idx {
		xs[i] = tmp[j]
	}
}

func permute16(xs []uint16, idx []int) {
	tmp := append([]uint16(nil), xs...)
	for i, j := range idx {
		xs[i] = tmp[j]
	}
}

func permuteF64(xs []float64, idx []int) {
	tmp := append([]float64(nil), xs...)
	for i, j := range idx {
		xs[i] = tmp[j]
	}
}

// assemble concatenates the blocks into one csr ordered by presynaptic
// global index. A global row generated more than once (a neuron selected
// twice) has its parts concatenated in block order.
func (rb *rowBuilder) assemble(hetDelay bool, delay0 uint16, extras []string) *csr {
	nrows := int(rb.preHi - rb.preLo)
	c := &csr{preLo: rb.preLo, rowPtr: make([]int64, nrows+1), delay0: delay0}
	for _, b := range rb.blocks {
		start := int64(0)
		for k, pre := range b.rows {
			c.rowPtr[pre-rb.preLo+1] += b.ends[k] - start
			start = b.ends[k]
		}
	}
	for r := 0; r < nrows; r++ {
		c.rowPtr[r+1] += c.rowPtr[r]
	}
	total := c.rowPtr[nrows]
	c.target = make([]uint32, total)
	c.weight = make([]float32, total)
	if hetDelay {
		c.delay = make([]uint16, total)
	}
	if len(extras) > 0 {
		c.extra = map[string][]float64{}
		for _, name := range extras {
			c.extra[name] = make([]float64, total)
		}
	}
	fill := make([]int64, nrows)
	copy(fill, c.rowPtr[:nrows])
	for _, b := range rb.blocks {
		start := int64(0)
		for k, pre := range b.rows {
			end := b.ends[k]
			dst := fill[pre-rb.preLo]
			n := end - start
			copy(c.target[dst:dst+n], b.target[start:end])
			copy(c.weight[dst:dst+n], b.weight[start:end])
			if hetDelay {
				copy(c.delay[dst:dst+n], b.delay[start:end])
			}
			for _, name := range extras {
				copy(c.extra[name][dst:dst+n], b.extra[name][start:end])
			}
			fill[pre-rb.preLo] += n
			start = end
		}
	}
	return c
}

// delaySteps converts a delay in ms to steps, at least one.
func delaySteps(ms, dt float64) int {
	// Delays are positive: adding a half and truncating rounds to nearest
	// (ties up) without math.Round's call.
	return max(int(ms/dt+0.5), 1)
}
