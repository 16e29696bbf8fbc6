package engine

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
)

// Connection building. Procedural connectors are expanded here, on the Go
// side, row by row: row i (the i-th neuron of the pre selection) draws from
// its own stream, derived from the seed, the projection and i, so the
// connections do not depend on how many workers build them.

// valueSource yields a per-connection value: a constant, the k-th element of
// an array, or a draw from a distribution.
type valueSource struct {
	kind  network.Kind
	c     float64
	arr   []float64
	dist  *network.Distribution
	isSet bool
	// ownWeight marks the column that keeps each synapse's weight in double
	// precision (plastic types): it takes the weight drawn for the synapse.
	ownWeight bool
}

func newValueSource(v *network.Value, def float64) valueSource {
	if v == nil || !v.IsSet() {
		return valueSource{kind: network.KindScalar, c: def}
	}
	vs := valueSource{kind: v.Kind, isSet: true}
	switch v.Kind {
	case network.KindScalar:
		vs.c = v.Scalar
	case network.KindArray:
		vs.arr = v.Array.Float64s()
		if len(vs.arr) == 1 {
			vs.kind, vs.c = network.KindScalar, vs.arr[0]
		}
	case network.KindRandom:
		vs.dist = v.Dist
	}
	return vs
}

func (v *valueSource) homogeneous() bool { return v.kind == network.KindScalar }

func (v *valueSource) at(r *rng.Stream, k int) float64 {
	switch v.kind {
	case network.KindArray:
		return v.arr[k]
	case network.KindRandom:
		return v.dist.Draw(r)
	}
	return v.c
}

// synValues describes how to fill the values of each new synapse.
type synValues struct {
	dt            float64
	weight        valueSource
	delay         valueSource
	hetDelay      bool
	delay0        uint16
	extras        []string
	extraSrc      []valueSource
	weightSign    float64 // -1 where drawn weights must not be positive, +1 where not negative, 0 no rule
	maxDelaySteps int
	err           error
	errOnce       sync.Once
}

func (sv *synValues) fail(err error) {
	sv.errOnce.Do(func() { sv.err = err })
}

// add appends one synapse to the block.
func (sv *synValues) add(b *rowBlock, target uint32, r *rng.Stream, k int) {
	w := sv.weight.at(r, k)
	if sv.weightSign != 0 && w*sv.weightSign < 0 || math.IsNaN(w) {
		sv.fail(fmt.Errorf("connection %d: drawn weight %g has the wrong sign for this receptor (PyNN's rule: positive for conductance-based or excitatory synapses, negative for current-based inhibitory ones)", k, w))
	}
	b.target = append(b.target, target)
	b.weight = append(b.weight, float32(w))
	if sv.hetDelay {
		d := sv.delay.at(r, k)
		ds := delaySteps(d, sv.dt)
		if d < sv.dt*(1-1e-9) || ds > sv.maxDelaySteps || math.IsNaN(d) {
			sv.fail(fmt.Errorf("connection %d: delay %g ms is outside [%g, %g] ms", k, d, sv.dt, float64(sv.maxDelaySteps)*sv.dt))
			ds = 1
		}
		b.delay = append(b.delay, uint16(ds))
	}
	for e, name := range sv.extras {
		x := w
		if !sv.extraSrc[e].ownWeight {
			x = sv.extraSrc[e].at(r, k)
		}
		b.extra[name] = append(b.extra[name], x)
	}
}

func (sv *synValues) newBlock() *rowBlock {
	b := &rowBlock{hetDelay: sv.hetDelay}
	if len(sv.extras) > 0 {
		b.extra = map[string][]float64{}
	}
	return b
}

// maxDelaySteps bounds delays: they are stored in 16 bits.
const maxDelaySteps = math.MaxUint16

// buildConnections expands projection pi into a csr.
func buildConnections(d *network.Description, pi int, pre, post []int32, sv *synValues, workers int) (*csr, error) {
	pr := &d.Projections[pi]
	preLo, preHi := spanOf(pre)
	rb := &rowBuilder{preLo: preLo, preHi: preHi}
	seed := rng.Derive(d.Simulation.Seed, domainConnect, uint64(pi))
	if c := pr.Connector; c != nil && c.Seed != nil {
		seed = rng.Derive(*c.Seed, domainConnect)
	}
	var err error
	if pr.Connections != nil {
		err = explicitRows(rb, pr.Connections, pre, post, sv, seed)
	} else {
		err = connectorRows(rb, pr.Connector, pre, post, sv, seed, workers)
	}
	if err != nil {
		return nil, err
	}
	if sv.err != nil {
		return nil, sv.err
	}
	return rb.assemble(sv.hetDelay, sv.delay0, sv.extras), nil
}

func spanOf(ids []int32) (lo, hi int32) {
	lo, hi = math.MaxInt32, 0
	for _, g := range ids {
		lo = min(lo, g)
		hi = max(hi, g+1)
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// rowTask generates row i (a position in the pre selection) into b.
type rowTask func(b *rowBlock, i int, r *rng.Stream, scratch *drawScratch)

// parallelRows runs task for rows 0..n-1 in blocks over workers, each row
// with its own stream, and adds the blocks to rb in row order. perRow, the
// expected row length, sizes the blocks so that they rarely grow.
func parallelRows(rb *rowBuilder, n int, pre []int32, seed uint64, workers int, sv *synValues, perRow float64, task rowTask) {
	const blockRows = 256
	nblocks := (n + blockRows - 1) / blockRows
	blocks := make([]*rowBlock, nblocks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < max(1, min(workers, nblocks)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch drawScratch
			for {
				k := int(next.Add(1) - 1)
				if k >= nblocks {
					return
				}
				b := sv.newBlock()
				rows := min(n, (k+1)*blockRows) - k*blockRows
				b.reserve(int(perRow*float64(rows)*1.02) + 16)
				for i := k * blockRows; i < min(n, (k+1)*blockRows); i++ {
					r := rng.New(rng.Derive(seed, uint64(i)))
					task(b, i, &r, &scratch)
					b.endRow(pre[i])
					b.sortLastRow()
				}
				blocks[k] = b
			}
		}()
	}
	wg.Wait()
	rb.blocks = append(rb.blocks, blocks...)
}

func connectorRows(rb *rowBuilder, c *network.Connector, pre, post []int32, sv *synValues, seed uint64, workers int) error {
	nPre, nPost := len(pre), len(post)
	self := c.Self()
	// k numbers the connections for error messages only; rows use their own count.
	switch c.Type {
	case "AllToAllConnector":
		parallelRows(rb, nPre, pre, seed, workers, sv, float64(nPost), func(b *rowBlock, i int, r *rng.Stream, _ *drawScratch) {
			for j := 0; j < nPost; j++ {
				if !self && post[j] == pre[i] {
					continue
				}
				sv.add(b, uint32(post[j]), r, i)
			}
		})
	case "OneToOneConnector":
		parallelRows(rb, nPre, pre, seed, workers, sv, 1, func(b *rowBlock, i int, r *rng.Stream, _ *drawScratch) {
			sv.add(b, uint32(post[i]), r, i)
		})
	case "FixedProbabilityConnector":
		p := c.P
		logq := math.Log1p(-p)
		parallelRows(rb, nPre, pre, seed, workers, sv, p*float64(nPost), func(b *rowBlock, i int, r *rng.Stream, _ *drawScratch) {
			if p <= 0 {
				return
			}
			j := -1
			for {
				if p >= 1 {
					j++
				} else {
					j += 1 + r.Skip(logq)
				}
				if j >= nPost {
					return
				}
				if !self && post[j] == pre[i] {
					continue
				}
				sv.add(b, uint32(post[j]), r, i)
			}
		})
	case "FixedNumberPostConnector":
		n := c.N
		parallelRows(rb, nPre, pre, seed, workers, sv, float64(n), func(b *rowBlock, i int, r *rng.Stream, scratch *drawScratch) {
			exclude := -1
			if !self {
				exclude = indexOf(post, pre[i])
			}
			for _, j := range sample(r, nPost, n, exclude, c.WithReplacement, scratch) {
				sv.add(b, uint32(post[j]), r, i)
			}
		})
	case "FixedNumberPreConnector":
		return fixedNumberPre(rb, c, pre, post, sv, seed, workers)
	case "FixedTotalNumberConnector":
		// n independent uniform pairs. With replacement, the rows' counts are
		// a uniform multinomial: the rows of n sorted uniform draws (from
		// exponential spacings, one draw each); then each row draws its
		// targets from its own stream.
		r := rng.New(rng.Derive(seed, math.MaxUint64))
		counts := make([]int, nPre)
		if c.WithReplacement {
			for _, row := range sample(&r, nPre, c.N, -1, true, new(drawScratch)) {
				counts[row]++
			}
		} else if int64(nPre)*int64(nPost) > math.MaxInt32 {
			return fmt.Errorf("FixedTotalNumberConnector without replacement over %d x %d candidate pairs is more than this engine draws from (%d); set with_replacement", nPre, nPost, math.MaxInt32)
		}
		if !c.WithReplacement {
			cells := sample(&r, nPre*nPost, c.N, -1, false, new(drawScratch))
			sort.Slice(cells, func(a, b int) bool { return cells[a] < cells[b] })
			b := sv.newBlock()
			k := 0
			for i := 0; i < nPre; i++ {
				rr := rng.New(rng.Derive(seed, uint64(i)))
				for ; k < len(cells) && int(cells[k])/nPost == i; k++ {
					j := int(cells[k]) % nPost
					if !self && post[j] == pre[i] {
						continue
					}
					sv.add(b, uint32(post[j]), &rr, i)
				}
				b.endRow(pre[i])
				b.sortLastRow()
			}
			rb.blocks = append(rb.blocks, b)
			return nil
		}
		parallelRows(rb, nPre, pre, seed, workers, sv, float64(c.N)/float64(nPre), func(b *rowBlock, i int, r *rng.Stream, scratch *drawScratch) {
			for _, j := range sample(r, nPost, counts[i], -1, true, scratch) {
				if !self && post[j] == pre[i] {
					continue
				}
				sv.add(b, uint32(post[j]), r, i)
			}
		})
	default:
		return fmt.Errorf("unknown connector %q", c.Type)
	}
	return nil
}

// fixedNumberPre draws, for each post neuron, n pre neurons, column by
// column, then transposes the columns into rows.
func fixedNumberPre(rb *rowBuilder, c *network.Connector, pre, post []int32, sv *synValues, seed uint64, workers int) error {
	nPre, nPost := len(pre), len(post)
	self := c.Self()
	// Columns are generated as rows of the transposed problem: "row" j is
	// post neuron j, and its "targets" are positions in the pre selection.
	type colOut struct {
		pres []int32
		b    *rowBlock
	}
	cols := make([]colOut, nPost)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch drawScratch
			for {
				j := int(next.Add(1) - 1)
				if j >= nPost {
					return
				}
				r := rng.New(rng.Derive(seed, uint64(j)))
				exclude := -1
				if !self {
					exclude = indexOf(pre, post[j])
				}
				ps := append([]int32(nil), sample(&r, nPre, c.N, exclude, c.WithReplacement, &scratch)...)
				b := sv.newBlock()
				for _, i := range ps {
					sv.add(b, uint32(post[j]), &r, j)
					_ = i
				}
				cols[j] = colOut{pres: ps, b: b}
			}
		}()
	}
	wg.Wait()
	// Transpose: visit columns in ascending target order so that each row
	// comes out sorted by target.
	order := make([]int, nPost)
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return post[order[a]] < post[order[b]] })
	preLo, preHi := rb.preLo, rb.preHi
	nrows := int(preHi - preLo)
	counts := make([]int64, nrows+1)
	for _, col := range cols {
		for _, i := range col.pres {
			counts[pre[i]-preLo+1]++
		}
	}
	for r := 0; r < nrows; r++ {
		counts[r+1] += counts[r]
	}
	total := counts[nrows]
	out := sv.newBlock()
	out.target = make([]uint32, total)
	out.weight = make([]float32, total)
	if sv.hetDelay {
		out.delay = make([]uint16, total)
	}
	for _, name := range sv.extras {
		out.extra[name] = make([]float64, total)
	}
	fill := append([]int64(nil), counts[:nrows]...)
	for _, j := range order {
		col := cols[j]
		for k, i := range col.pres {
			row := pre[i] - preLo
			dst := fill[row]
			fill[row]++
			out.target[dst] = col.b.target[k]
			out.weight[dst] = col.b.weight[k]
			if sv.hetDelay {
				out.delay[dst] = col.b.delay[k]
			}
			for _, name := range sv.extras {
				out.extra[name][dst] = col.b.extra[name][k]
			}
		}
	}
	for r := 0; r < nrows; r++ {
		if counts[r+1] > counts[r] {
			out.rows = append(out.rows, preLo+int32(r))
			out.ends = append(out.ends, counts[r+1])
		}
	}
	rb.blocks = append(rb.blocks, out)
	return nil
}

// explicitRows builds rows from a connection list. Values that are drawn
// come from one stream in list order.
func explicitRows(rb *rowBuilder, c *network.Connections, pre, post []int32, sv *synValues, seed uint64) error {
	pi, _, _ := c.Pre.Array.Int64s()
	pj, _, _ := c.Post.Array.Int64s()
	n := len(pi)
	preLo, preHi := rb.preLo, rb.preHi
	nrows := int(preHi - preLo)
	// Counting sort by presynaptic global index, stable in list order.
	counts := make([]int64, nrows+1)
	for _, i := range pi {
		counts[pre[i]-preLo+1]++
	}
	for r := 0; r < nrows; r++ {
		counts[r+1] += counts[r]
	}
	perm := make([]int32, n)
	fill := append([]int64(nil), counts[:nrows]...)
	for k, i := range pi {
		row := pre[i] - preLo
		perm[fill[row]] = int32(k)
		fill[row]++
	}
	// Draw the values in list order, then lay them out row by row.
	r := rng.New(seed)
	tmp := sv.newBlock()
	tmp.target = make([]uint32, 0, n)
	tmp.weight = make([]float32, 0, n)
	for k := 0; k < n; k++ {
		sv.add(tmp, uint32(post[pj[k]]), &r, k)
	}
	out := sv.newBlock()
	out.target = make([]uint32, n)
	out.weight = make([]float32, n)
	if sv.hetDelay {
		out.delay = make([]uint16, n)
	}
	for _, name := range sv.extras {
		out.extra[name] = make([]float64, n)
	}
	for dst, k := range perm {
		out.target[dst] = tmp.target[k]
		out.weight[dst] = tmp.weight[k]
		if sv.hetDelay {
			out.delay[dst] = tmp.delay[k]
		}
		for _, name := range sv.extras {
			out.extra[name][dst] = tmp.extra[name][k]
		}
	}
	for row := 0; row < nrows; row++ {
		if counts[row+1] == counts[row] {
			continue
		}
		out.rows = append(out.rows, preLo+int32(row))
		out.ends = append(out.ends, counts[row+1])
		out.sortRow(len(out.ends) - 1)
	}
	rb.blocks = append(rb.blocks, out)
	return nil
}

// sortRow sorts row k of the block by target (stable).
func (b *rowBlock) sortRow(k int) {
	ends := b.ends
	b.ends = ends[:k+1]
	b.sortLastRow()
	b.ends = ends
}

func indexOf(xs []int32, x int32) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// drawScratch is reused memory for sample.
type drawScratch struct {
	ints   []int32
	floats []float64
}

// sample returns n positions in [0, m) drawn uniformly, excluding the
// position exclude (unless it is -1), distinct unless replace is set,
// sorted. The result aliases scratch.
func sample(r *rng.Stream, m, n, exclude int, replace bool, scratch *drawScratch) []int32 {
	out := scratch.ints[:0]
	avail := m
	if exclude >= 0 {
		avail--
	}
	if avail <= 0 || n <= 0 {
		scratch.ints = out
		return out
	}
	mapPos := func(x int) int32 {
		if exclude >= 0 && x >= exclude {
			return int32(x + 1)
		}
		return int32(x)
	}
	switch {
	case replace:
		// Sorted uniform draws without sorting: the normalised partial sums
		// of n+1 exponential spacings are the order statistics of n
		// uniforms (Devroye 1986, ch. V.2).
		if cap(scratch.floats) < n+1 {
			scratch.floats = make([]float64, 0, n+1)
		}
		if cap(out) < n {
			out = make([]int32, 0, n)
		}
		sp := scratch.floats[:0]
		total := 0.0
		for k := 0; k <= n; k++ {
			total += r.Exp()
			sp = append(sp, total)
		}
		scale := float64(avail) / total
		for k := 0; k < n; k++ {
			x := int(sp[k] * scale)
			out = append(out, mapPos(min(x, avail-1)))
		}
		scratch.floats = sp
		scratch.ints = out
		return out
	case n >= avail:
		for x := 0; x < avail; x++ {
			out = append(out, mapPos(x))
		}
	case n*4 < avail:
		// Floyd's algorithm: n draws, each distinct.
		seen := make(map[int]struct{}, n)
		for j := avail - n; j < avail; j++ {
			t := r.Intn(j + 1)
			if _, dup := seen[t]; dup {
				t = j
			}
			seen[t] = struct{}{}
			out = append(out, mapPos(t))
		}
	default:
		// Partial Fisher-Yates over all candidates.
		all := make([]int32, avail)
		for x := range all {
			all[x] = int32(x)
		}
		for k := 0; k < n; k++ {
			j := k + r.Intn(avail-k)
			all[k], all[j] = all[j], all[k]
		}
		for _, x := range all[:n] {
			out = append(out, mapPos(int(x)))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	scratch.ints = out
	return out
}
