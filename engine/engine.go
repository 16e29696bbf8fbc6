package engine

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// segmentRef is a population range a thread updates.
type segmentRef struct {
	pop    *popRT
	lo, hi int // local indices
	in     Input
}

// threadState is what one thread owns.
type threadState struct {
	// pad keeps threads' hot fields on separate cache lines.
	_      [64]byte
	k      int
	lo, hi int // global neurons
	segs   []segmentRef
	// spikes of the current and the previous step, by parity.
	spikes [2]Spikes
	// recorded spikes: stamp and global index.
	recStamp []int64
	recID    []int32
	dl       delivery
	_        [64]byte
}

func (s *Simulator) newThreadState(k int) *threadState {
	t := &threadState{k: k, lo: s.bounds[k], hi: s.bounds[k+1]}
	for _, p := range s.pops {
		lo := max(t.lo, p.Offset) - p.Offset
		hi := min(t.hi, p.Offset+p.Size) - p.Offset
		if lo >= hi {
			continue
		}
		seg := segmentRef{pop: p, lo: lo, hi: hi}
		seg.in.Syn = make([][]float64, len(p.chans))
		seg.in.I = p.iext
		seg.in.Gap = p.gap
		t.segs = append(t.segs, seg)
	}
	return t
}

// Now returns the simulation time in ms.
func (s *Simulator) Now() float64 { return float64(s.step) * s.dt }

// Timestep returns dt in ms.
func (s *Simulator) Timestep() float64 { return s.dt }

// Threads returns the number of threads.
func (s *Simulator) Threads() int { return s.threads }

// Progress reports how far a run has come; it is called from the goroutine
// that called Run, about every tenth of a second.
type Progress func(done, total int64)

// Run advances the simulation by ms milliseconds (rounded to whole steps).
// It stops early, between steps, when ctx is cancelled.
func (s *Simulator) Run(ctx context.Context, ms float64, progress Progress) error {
	if !(ms >= 0) || math.IsInf(ms, 0) {
		return fmt.Errorf("run: duration %g ms is not a duration", ms)
	}
	nsteps := steps(ms, s.dt)
	end := s.step + nsteps
	s.recs.beginRun(s.step, end)
	seg := s.segments[len(s.segments)-1]
	start := s.step
	if err := ctx.Err(); err != nil {
		s.finishRun(seg, start)
		return err
	}
	// Thread 0 runs on this goroutine and looks after the run every
	// checkEvery steps: it reports progress and, when ctx is cancelled,
	// sets the step at which every thread stops.
	lastReport := time.Now()
	var stopErr error
	check := func(n int64) (stopAt int64) {
		if err := ctx.Err(); err != nil {
			stopErr = err
			return n + 1
		}
		if progress != nil && time.Since(lastReport) > 100*time.Millisecond {
			progress(n+1-start, nsteps)
			lastReport = time.Now()
		}
		return end
	}
	s.step = s.runSteps(s.step, end, check)
	if stopErr != nil {
		s.finishRun(seg, start)
		return stopErr
	}
	if progress != nil {
		progress(nsteps, nsteps)
	}
	s.finishRun(seg, start)
	return nil
}

// checkEvery is how many steps pass between the checks of a run's context
// (and progress reports): a few milliseconds of wall time for most networks.
const checkEvery = 256

// finishRun files the spikes recorded during the run into the segment.
func (s *Simulator) finishRun(seg *Segment, start int64) {
	seg.Runs = append(seg.Runs, float64(s.step-start)*s.dt)
	s.recs.endRun(s.step)
	s.recs.noteRecorded(seg)
	// Each thread's list is in step order, and within a step in neuron
	// order; the threads own ascending ranges of neurons. Merging the lists
	// gives the spikes by time, then neuron, without sorting.
	heads := make([]int, len(s.th))
	for {
		best, bs, bi := -1, int64(0), int32(0)
		for k, t := range s.th {
			h := heads[k]
			if h == len(t.recStamp) {
				continue
			}
			st, id := t.recStamp[h], t.recID[h]
			if best < 0 || st < bs || (st == bs && id < bi) {
				best, bs, bi = k, st, id
			}
		}
		if best < 0 {
			break
		}
		heads[best]++
		pop := s.popOf(bi)
		ps := &seg.Spikes[pop]
		ps.IDs = append(ps.IDs, bi-int32(s.pops[pop].Offset))
		ps.Times = append(ps.Times, float64(bs)*s.dt)
	}
	for _, t := range s.th {
		t.recStamp, t.recID = t.recStamp[:0], t.recID[:0]
	}
}

// popOf returns the population of global neuron g.
func (s *Simulator) popOf(g int32) int {
	lo, hi := 0, len(s.popEnd)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if int(g) < s.popEnd[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// runSteps advances all threads from step n0 to n1, or to the earlier step
// check returns, and returns the step reached. The threads live for the
// whole run; check is called on thread 0 every checkEvery steps, before the
// step's barrier, so every thread sees the same stop step after it.
func (s *Simulator) runSteps(n0, n1 int64, check func(n int64) int64) int64 {
	if s.threads == 1 {
		t := s.th[0]
		stop := n1
		n := n0
		for ; n < stop; n++ {
			if (n-n0)%checkEvery == checkEvery-1 {
				stop = min(stop, check(n))
			}
			s.update(t, n)
			s.deliver(t, n)
		}
		return n
	}
	var wg sync.WaitGroup
	b := newBarrier(s.threads)
	var stopAt atomic.Int64
	stopAt.Store(n1)
	for k := 1; k < s.threads; k++ {
		wg.Add(1)
		go func(t *threadState) {
			defer wg.Done()
			for n := n0; n < stopAt.Load(); n++ {
				s.update(t, n)
				b.wait()
				s.deliver(t, n)
			}
		}(s.th[k])
	}
	t := s.th[0]
	n := n0
	for ; n < stopAt.Load(); n++ {
		s.update(t, n)
		if (n-n0)%checkEvery == checkEvery-1 {
			if at := check(n); at < n1 {
				stopAt.Store(at)
			}
		}
		b.wait()
		s.deliver(t, n)
	}
	wg.Wait()
	return n
}

// update advances thread t's neurons over step n and records them.
func (s *Simulator) update(t *threadState, n int64) {
	out := &t.spikes[n&1]
	out.IDs = out.IDs[:0]
	s.computeCurrents(t, n)
	if s.gaps != nil {
		s.gaps.compute(t, n)
	}
	slot := int((n+1)%s.slots) * s.n
	for i := range t.segs {
		seg := &t.segs[i]
		p := seg.pop
		for r, c := range p.chans {
			seg.in.Syn[r] = s.ring[c][slot+p.Offset : slot+p.Offset+p.Size]
		}
		out.base = int32(p.Offset)
		p.model.Step(n, seg.lo, seg.hi, &seg.in, out)
	}
	if s.gaps != nil {
		s.gaps.snapshot(t, n+1)
	}
	s.recs.sample(t, n+1, out.IDs)
}

// deliver hands all spikes of step n to thread t's synapses.
func (s *Simulator) deliver(t *threadState, n int64) {
	par := n & 1
	dl := &t.dl
	dl.n, dl.slots = s.n, s.slots
	// Static synapses, spike by spike: each spike goes to the projections
	// its population feeds. The spike lists of the threads, taken in order,
	// are the step's spikes in neuron order, so each target receives its
	// arrivals in the same order for any number of threads. Walking spikes
	// rather than projections keeps the per-step cost that every thread
	// pays independent of the number of projections.
	for _, src := range s.th {
		pop := 0
		for _, g := range src.spikes[par].IDs {
			for int(g) >= s.popEnd[pop] {
				pop++
			}
			for _, pj := range s.staticFrom[pop] {
				r := int(g - pj.preLo)
				if uint(r) >= uint(pj.nrows) {
					continue
				}
				dl.ring = s.ring[pj.channel]
				deliverStatic(pj.parts[t.k], r, n, dl)
			}
		}
	}
	// Synapses with dynamics, projection by projection: presynaptic spikes,
	// then postsynaptic ones, then the end of the step, as plasticity needs.
	for _, pj := range s.dynProjs {
		c := pj.parts[t.k]
		if c.len() == 0 {
			continue
		}
		dl.ring = s.ring[pj.channel]
		lo, hi := pj.preLo, pj.preLo+int32(pj.nrows)
		for _, src := range s.th {
			ids := src.spikes[par].IDs
			if len(ids) == 0 || ids[len(ids)-1] < lo || ids[0] >= hi {
				continue
			}
			a := sort.Search(len(ids), func(i int) bool { return ids[i] >= lo })
			for _, g := range ids[a:] {
				if g >= hi {
					break
				}
				pj.dyn.deliver(t.k, c, int(g-lo), n, dl)
			}
		}
		// Postsynaptic spikes of this thread's neurons, for plasticity.
		for _, g := range t.spikes[par].IDs {
			pj.dyn.post(t.k, c, g, n)
		}
		if e, ok := pj.dyn.(stepEnder); ok {
			e.endStep(t.k, c, n, dl)
		}
	}
}

// indexProjections lists, for delivery, the static projections fed by each
// population and the projections with dynamics.
func (s *Simulator) indexProjections() {
	s.staticFrom = make([][]*projRT, len(s.pops))
	s.dynProjs = s.dynProjs[:0]
	for _, pj := range s.projs {
		if pj.dyn != nil {
			s.dynProjs = append(s.dynProjs, pj)
			continue
		}
		lo, hi := int(pj.preLo), int(pj.preLo)+pj.nrows
		for i, p := range s.pops {
			if p.Offset < hi && p.Offset+p.Size > lo {
				s.staticFrom[i] = append(s.staticFrom[i], pj)
			}
		}
	}
}

// stepEnder is implemented by dynamics that need to act once per step after
// all spikes of the step are known (STDP with axonal delays processes a
// presynaptic spike only once the postsynaptic spikes it pairs with have
// happened).
type stepEnder interface {
	// endStep is called at the end of thread k's delivery of step n, after
	// the pre- and postsynaptic spikes of stamp n+1; it may add arrivals
	// from stamp n+2 on.
	endStep(k int, c *csr, n int64, dl *delivery)
}

// deliverStatic adds the weights of row r to the ring: the spike carries
// stamp n+1 and arrives at n+1+delay.
func deliverStatic(c *csr, r int, n int64, dl *delivery) {
	a, b := c.rowPtr[r], c.rowPtr[r+1]
	if a == b {
		return
	}
	tg := c.target[a:b]
	w := c.weight[a:b]
	w = w[:len(tg)]
	if c.delay == nil {
		slot := int((n+1+int64(c.delay0))%dl.slots) * dl.n
		buf := dl.ring[slot : slot+dl.n]
		for i, j := range tg {
			buf[j] += float64(w[i])
		}
		return
	}
	dd := c.delay[a:b]
	dd = dd[:len(tg)]
	// Delays are below the ring's length, so one subtraction wraps the slot
	// (an integer division per synapse would cost more than the addition).
	base := int((n + 1) % dl.slots)
	slots := int(dl.slots)
	ring, nn := dl.ring, dl.n
	for i, j := range tg {
		slot := base + int(dd[i])
		if slot >= slots {
			slot -= slots
		}
		ring[slot*nn+int(j)] += float64(w[i])
	}
}

// barrier is a reusable barrier for the threads of a run. A step takes
// microseconds, too short to park goroutines every time, so waiters spin
// first; but when the machine has fewer free cores than threads, spinning
// would starve the thread everyone waits for, so after a while they sleep.
type barrier struct {
	n        int32
	count    atomic.Int32
	gen      atomic.Uint32
	sleepers atomic.Int32
	mu       sync.Mutex
	cond     *sync.Cond
	// yield lets spinning waiters give their processor to other goroutines;
	// only useful when there are more threads than processors, and harmful
	// otherwise: the scheduler may then run two threads on one processor,
	// taking turns.
	yield bool
	spin  time.Duration
}

func newBarrier(n int) *barrier {
	b := &barrier{n: int32(n), yield: n > runtime.GOMAXPROCS(0), spin: spinBeforeSleep}
	if b.yield {
		b.spin = spinBeforeSleepShared
	}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// spinBeforeSleep is how long a waiter spins before it sleeps: far longer
// than the imbalance of a step, so that on a machine with a core per thread
// no thread ever sleeps. Sleeping is for machines that are busy with other
// work; it has a cost beyond the wake-up: the waker readies the sleeper on
// its own processor, after which the two threads may take turns on one
// core instead of running side by side.
const spinBeforeSleep = 2 * time.Millisecond

// spinBeforeSleepShared is the spin when threads outnumber processors: some
// thread is always waiting for a processor then, and spinning only delays it.
const spinBeforeSleepShared = 50 * time.Microsecond

func (b *barrier) wait() {
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.gen.Add(1)
		if b.sleepers.Load() > 0 {
			b.mu.Lock()
			b.cond.Broadcast()
			b.mu.Unlock()
		}
		return
	}
	var start time.Time
	for i := 0; ; i++ {
		if b.gen.Load() != g {
			return
		}
		if i&255 == 255 {
			if start.IsZero() {
				start = time.Now()
				continue
			}
			waited := time.Since(start)
			if waited > b.spin {
				break
			}
			// A wait this long means some thread lacks a processor; if it is
			// queued on ours, yielding lets it run.
			if b.yield || waited > spinBeforeSleepShared {
				runtime.Gosched()
			}
		}
	}
	b.mu.Lock()
	b.sleepers.Add(1)
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.sleepers.Add(-1)
	b.mu.Unlock()
}

// Reset returns to t = 0 with the initial values and starts a new segment.
// Synaptic weights keep their values, as in PyNN.
func (s *Simulator) Reset() {
	s.step = 0
	for _, p := range s.pops {
		p.resetState()
		p.model.Reset()
	}
	for c := range s.ring {
		clear(s.ring[c])
	}
	for _, pj := range s.projs {
		if pj.dyn != nil {
			pj.dyn.reset()
		}
	}
	for _, t := range s.th {
		t.spikes[0].IDs = t.spikes[0].IDs[:0]
		t.spikes[1].IDs = t.spikes[1].IDs[:0]
	}
	for _, cs := range s.currs {
		cs.reset()
	}
	if s.gaps != nil {
		s.gaps.reset()
	}
	s.recs.newSegment()
	s.segments = append(s.segments, s.newSegment(len(s.segments)))
}

func (s *Simulator) newSegment(i int) *Segment {
	seg := &Segment{Index: i, Spikes: make([]PopSpikes, len(s.pops))}
	return seg
}

// Segments returns the recorded segments, the last one still growing.
func (s *Simulator) Segments() []*Segment { return s.segments }

// TakeSegments returns the recorded segments and clears them, keeping the
// current segment open (empty) for further runs.
func (s *Simulator) TakeSegments() []*Segment {
	segs := s.segments
	last := segs[len(segs)-1]
	fresh := s.newSegment(last.Index)
	s.segments = []*Segment{fresh}
	s.recs.detach(last, fresh)
	return segs
}

// Neurons returns the number of neurons, spike sources included.
func (s *Simulator) Neurons() int { return s.n }

// Synapses returns the number of synapses of all projections.
func (s *Simulator) Synapses() int64 {
	var n int64
	for _, pj := range s.projs {
		n += int64(pj.n)
	}
	if s.gaps != nil {
		n += int64(len(s.gaps.w) / 2)
	}
	return n
}

// ProjectionSize returns the number of connections of projection i.
func (s *Simulator) ProjectionSize(i int) (int, error) {
	pj, err := s.projection(i)
	if err != nil {
		return 0, err
	}
	if pj == nil {
		pre, _, err := s.gapConnections(i)
		return len(pre), err
	}
	return pj.n, nil
}
