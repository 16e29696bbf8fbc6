package spinnaker

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/system"
)

// vaCOBA is the Vogels-Abbott COBA network as sPyNNaker's va_benchmark
// example builds it, at 4000 neurons: 3200 excitatory and 800 inhibitory
// IF_cond_exp cells, 2% connectivity, 4 nS and 51 nS synapses with 2 ms
// delays, 20 Poisson sources of 100 Hz for the first 50 ms, membranes
// started uniformly between reset and threshold.
func vaCOBA(dt float64, n int) string {
	ne, ni := n*4/5, n/5
	cell := `"parameters":{"tau_m":20,"tau_syn_E":5,"tau_syn_I":10,"v_rest":-60,"v_reset":-60,"v_thresh":-50,"cm":0.2,"tau_refrac":5,"i_offset":0,"e_rev_E":0,"e_rev_I":-80},
	  "initial_values":{"v":{"distribution":"uniform","parameters":{"low":-60,"high":-50}}}`
	prj := func(pre, post int, rec string, w, p float64) string {
		return fmt.Sprintf(`{"pre":[{"population":%d}],"post":[{"population":%d}],"receptor_type":%q,"synapse":{"type":"StaticSynapse","parameters":{"weight":%g,"delay":2}},"connector":{"type":"FixedProbabilityConnector","p":%g}}`, pre, post, rec, w, p)
	}
	return fmt.Sprintf(`{"format":"nmp-network","version":1,"simulation":{"timestep":%g,"seed":98766987,"threads":1},"system":{"name":"spinnaker","options":{"max_atoms_per_core":{"IF_cond_exp":50}}},
	 "populations":[{"label":"exc","size":%d,"cell_type":"IF_cond_exp",%s},{"label":"inh","size":%d,"cell_type":"IF_cond_exp",%s},
	  {"label":"ext","size":20,"cell_type":"SpikeSourcePoisson","parameters":{"rate":100,"duration":50}}],
	 "projections":[%s,%s,%s,%s,%s,%s],
	 "recordings":[{"selection":[{"population":0}],"variables":["spikes"]}]}`, dt, ne, cell, ni, cell,
		prj(0, 0, "excitatory", 0.004, 0.02), prj(0, 1, "excitatory", 0.004, 0.02), prj(1, 0, "inhibitory", 0.051, 0.02),
		prj(1, 1, "inhibitory", 0.051, 0.02), prj(2, 0, "excitatory", 0.1, 0.01), prj(2, 1, "excitatory", 0.1, 0.01))
}

// BenchmarkVACOBA runs 1 s of biological time of the 4000-neuron COBA
// network on one engine thread; "realtime" is wall time per simulated
// time (≤ 1: at least as fast as the machine's real time).
func BenchmarkVACOBA(b *testing.B) {
	for _, dt := range []float64{1, 0.1} {
		b.Run(fmt.Sprintf("dt=%g", dt), func(b *testing.B) {
			d := decode(b, vaCOBA(dt, 4000))
			r, err := system.NewRun(context.Background(), System{}, d, system.RunOptions{Threads: 1})
			if err != nil {
				b.Fatal(err)
			}
			run := 1000.0
			b.ResetTimer()
			var wall, cpu time.Duration
			for i := 0; i < b.N; i++ {
				t0, c0 := time.Now(), cpuTime()
				if err := r.Simulator().Run(context.Background(), run, nil); err != nil {
					b.Fatal(err)
				}
				wall += time.Since(t0)
				cpu += cpuTime() - c0
				b.StopTimer()
				r.Simulator().Reset()
				r.Data(true)
				b.StartTimer()
			}
			b.ReportMetric(wall.Seconds()/float64(b.N)/(run/1000), "realtime")
			// CPU time per simulated second: what the run costs one core,
			// less inflated than wall time on a shared machine.
			b.ReportMetric(cpu.Seconds()/float64(b.N)/(run/1000), "cpu-realtime")
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMap48 maps 100,000 neurons onto a 48-chip board: 100
// populations of 1000 IF_curr_exp cells in a ring, each cell receiving
// 10 synapses from the population before it, and 100 Poisson sources.
func BenchmarkMap48(b *testing.B) {
	pops := []string{pop("noise", 100, "SpikeSourcePoisson")}
	var projs []string
	for i := 1; i <= 100; i++ {
		pops = append(pops, pop(fmt.Sprintf("p%d", i), 1000, "IF_curr_exp"))
		prev := i - 1
		if prev == 0 {
			prev = 100
		}
		projs = append(projs, proj(prev, i, 0.5, 1+float64(i%5), `{"type":"FixedNumberPreConnector","n":10}`))
		projs = append(projs, proj(0, i, 0.2, 1, `{"type":"FixedProbabilityConnector","p":0.05}`))
	}
	js := desc(1, `{"version":5}`, pops, projs)
	d := decode(b, js)
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		c0 := cpuTime()
		p, err := System{}.Prepare(d)
		cpu += cpuTime() - c0
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			b.ReportMetric(float64(p.Info["cores_used"].(int)), "cores")
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
