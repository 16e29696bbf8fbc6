package spikey

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
	_ "github.com/nmp-platform/nmp/system/reference"
)

// fullChip is all 384 neurons: two sparse inhibitory networks (one per
// block, K = 15, v_rest above threshold, as lesson 4) and 64 Poisson inputs
// at 10/s reaching 16 neurons each, every neuron's spikes recorded.
func fullChip(b *testing.B) *network.Description {
	n := newNet(1, nil)
	pop := n.neurons(384, map[string]network.Value{"v_rest": network.Scalar(-40)})
	src := n.poisson(64, 10)
	var a, c []int64
	for j := 0; j < 384; j++ {
		blk := j / 192
		for k := 0; k < 15; k++ {
			a, c = append(a, int64(blk*192+(j*7+k*13)%192)), append(c, int64(j))
		}
	}
	n.d.Projections = append(n.d.Projections, network.Projection{Pre: network.Selection{{Population: pop}}, Post: network.Selection{{Population: pop}},
		ReceptorType: "inhibitory", Synapse: network.Synapse{Type: staticSyn},
		Connections: &network.Connections{Pre: network.Ints(a), Post: network.Ints(c), Parameters: map[string]network.Value{"weight": network.Scalar(7 * lsbInhCalib)}}})
	a, c = nil, nil
	for j := 0; j < 384; j++ {
		for k := 0; k < 16; k++ {
			if (j+k)%6 == 0 {
				a, c = append(a, int64((j+k*4)%64)), append(c, int64(j))
			}
		}
	}
	n.d.Projections = append(n.d.Projections, network.Projection{Pre: network.Selection{{Population: src}}, Post: network.Selection{{Population: pop}},
		ReceptorType: "excitatory", Synapse: network.Synapse{Type: staticSyn},
		Connections: &network.Connections{Pre: network.Ints(a), Post: network.Ints(c), Parameters: map[string]network.Value{"weight": network.Scalar(5 * lsbExcCalib)}}})
	n.record(pop, "spikes")
	tb := &testing.T{}
	return n.resolved(tb)
}

// BenchmarkFullChip10s runs 10 s of biological time (1 ms on the chip) of
// the full chip on one thread; ns/op is the wall time of the run alone.
func BenchmarkFullChip10s(b *testing.B) {
	d := fullChip(b)
	ms := 10000.0
	var spikes int
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r, err := system.NewRun(context.Background(), System{}, d, system.RunOptions{Threads: 1})
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		b.StartTimer()
		if err := r.Apply(context.Background(), &network.Action{Run: &ms}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		segs, _ := r.Data(true)
		spikes = len(segs[0].Spikes[0].IDs)
	}
	b.ReportMetric(float64(spikes)/384/10, "spikes/s/neuron")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's CPU time: the cost of a run without the time
// spent waiting for a core on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFullChip10sReference runs the same network with PyNN's
// IF_cond_exp on the reference system (the yardstick: the chip's neuron
// is a conductance-based LIF too).
func BenchmarkFullChip10sReference(b *testing.B) {
	d := fullChip(b)
	d.System = nil
	d.Populations[0].CellType = "IF_cond_exp"
	d.Populations[0].Parameters = map[string]network.Value{"v_rest": network.Scalar(-40), "cm": network.Scalar(0.2),
		"tau_m": network.Scalar(10), "v_reset": network.Scalar(-80), "v_thresh": network.Scalar(-55), "e_rev_I": network.Scalar(-80)}
	for i := range d.Projections {
		d.Projections[i].Connections.Parameters["delay"] = network.Scalar(1)
	}
	ref, err := system.Lookup("reference")
	if err != nil {
		b.Skip("the reference system is not linked in")
	}
	ms := 10000.0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r, err := system.NewRun(context.Background(), ref, d, system.RunOptions{Threads: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := r.Apply(context.Background(), &network.Action{Run: &ms}); err != nil {
			b.Fatal(err)
		}
	}
}
