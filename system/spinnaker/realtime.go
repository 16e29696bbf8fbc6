package spinnaker

import (
	"fmt"
	"sync/atomic"
)

// Real-time behaviour. A SpiNNaker core has one timer tick of
// dt·time_scale_factor of wall time in which to process the spikes that
// arrive (a DMA of the synaptic row and a pass over its words per spike)
// and to update its neurons. The emulation charges every core, every tick,
// with a cost model in cycles of its 200 MHz clock; a tick whose cost
// exceeds the cycles available overruns. Every router likewise forwards a
// bounded number of packets per tick; beyond that it drops packets, and
// the monitor reinjects some of them. The figures are assumptions (see
// docs/spinnaker.md): sPyNNaker publishes no cycle counts per model, and the
// numbers here are of the right order for its C code, not measured on a
// board. Overruns and drops are counted and reported; they do not change
// the emulated dynamics (see the docs' departures).
const (
	cyclesTickOverhead  = 2000 // timer callback, recording, DMA setup
	cyclesPerRow        = 400  // packet received, population table, row DMA
	cyclesPerSynapse    = 20   // one static synaptic word into the ring buffer
	cyclesPerSourceAtom = 60   // a Poisson or array source's atom per tick
	cyclesPerSpikeSent  = 60   // sending one multicast packet
	// routerPacketsPerSecond is what one router forwards (~6 M packets/s,
	// a link's throughput for 40-bit packets); reinjectPerSecond what the
	// monitor reinjects.
	routerPacketsPerSecond = 6e6
	reinjectPerSecond      = 1e6
)

func cyclesPerNeuron(model string) int64 {
	switch model {
	case "IF_cond_exp":
		return 260
	case "Izhikevich":
		return 300
	case "Izhikevich_cond":
		return 340
	case "IF_curr_alpha":
		return 240 // two alpha synapses: a division on input, two products per tick
	default:
		return 200
	}
}

// load charges the cores and routers of one run.
type load struct {
	nCores int
	nChips int
	// fan is, per global neuron, the cost of its spike on each core it
	// reaches: fanCore[fanStart[g]:fanStart[g+1]] and fanCycles alike.
	fanStart  []int32
	fanCore   []int32
	fanCycles []int64
	// chipsOf is, per global neuron, the chips its packets pass.
	chipStart []int32
	chipOf    []int32
	base      []int64 // per core, cycles of every tick
	// cycles and packets accumulate tick n's costs in [n&1].
	cycles  [2][]atomic.Int64
	packets [2][]atomic.Int64
	// limits per tick
	budget     int64
	routerCap  int64
	reinjCap   int64
	stats      loadStats
	lastFolded int64
}

// loadStats are what the provenance reports.
type loadStats struct {
	Ticks          int64   `json:"ticks"`
	Overruns       []int64 `json:"-"` // per core: ticks that overran
	MaxOverrun     []int64 `json:"-"` // per core: the largest overrun, in cycles
	MaxCycles      []int64 `json:"-"` // per core: the busiest tick
	Dropped        int64   `json:"dropped_packets"`
	Reinjected     int64   `json:"reinjected_packets"`
	MaxPacketsTick int64   `json:"max_packets_per_tick_on_a_router"`
}

func newLoad(nCores, nChips int, budget, routerCap, reinjCap int64) *load {
	l := &load{nCores: nCores, nChips: nChips, base: make([]int64, nCores), budget: budget, routerCap: routerCap, reinjCap: reinjCap, lastFolded: -1}
	for k := range l.cycles {
		l.cycles[k] = make([]atomic.Int64, nCores)
		l.packets[k] = make([]atomic.Int64, nChips)
	}
	l.stats.Overruns = make([]int64, nCores)
	l.stats.MaxOverrun = make([]int64, nCores)
	l.stats.MaxCycles = make([]int64, nCores)
	return l
}

// spike charges neuron g's spike in tick n.
func (l *load) spike(g int, n int64) {
	p := n & 1
	cy, pk := l.cycles[p], l.packets[p]
	for k := l.fanStart[g]; k < l.fanStart[g+1]; k++ {
		cy[l.fanCore[k]].Add(l.fanCycles[k])
	}
	for k := l.chipStart[g]; k < l.chipStart[g+1]; k++ {
		pk[l.chipOf[k]].Add(1)
	}
}

// fold closes tick n: it is called once all of tick n's spikes are in
// (at the start of tick n+1, by the thread that owns neuron 0, or after a
// run), and before any spike of tick n+2.
func (l *load) fold(n int64) {
	if n <= l.lastFolded {
		return
	}
	l.lastFolded = n
	p := n & 1
	l.stats.Ticks++
	for c := range l.base {
		x := l.base[c] + l.cycles[p][c].Swap(0)
		if x > l.stats.MaxCycles[c] {
			l.stats.MaxCycles[c] = x
		}
		if x > l.budget {
			l.stats.Overruns[c]++
			if o := x - l.budget; o > l.stats.MaxOverrun[c] {
				l.stats.MaxOverrun[c] = o
			}
		}
	}
	for c := range l.packets[p] {
		x := l.packets[p][c].Swap(0)
		if x > l.stats.MaxPacketsTick {
			l.stats.MaxPacketsTick = x
		}
		if x > l.routerCap {
			d := x - l.routerCap
			l.stats.Dropped += d
			l.stats.Reinjected += min(d, l.reinjCap)
		}
	}
}

// warnings are sPyNNaker's provenance warnings for what the run counted.
func (l *load) warnings(where func(core int) string) []string {
	var out []string
	for c, n := range l.stats.Overruns {
		if n > 0 {
			out = append(out, fmt.Sprintf("The timer tick overran %d times on %s (by up to %d cycles). This means that the results are likely incorrect. Try increasing the machine time step or time_scale_factor or decreasing the number of neurons per core.", n, where(c), l.stats.MaxOverrun[c]))
		}
	}
	if l.stats.Dropped > 0 {
		out = append(out, fmt.Sprintf("The routers dropped %d multicast packets and the monitors reinjected %d of them; %d spikes were lost. Try increasing the time_scale_factor or spreading the network over more cores.", l.stats.Dropped, l.stats.Reinjected, l.stats.Dropped-l.stats.Reinjected))
	}
	return out
}
