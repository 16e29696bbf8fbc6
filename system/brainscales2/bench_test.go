package brainscales2

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/network"
)

// fullChip is the benchmark network: all 512 circuits as calibrated-looking
// LIF neurons, 256 Poisson sources at 10 kHz (10 Hz in biological time),
// each feeding every neuron through one row per hemisphere (192 excitatory,
// 64 inhibitory): all 2 x 256 synapse rows driven, all 131072 synapses used.
func fullChip(seed uint64) *network.Description {
	neuron := map[string]network.Value{
		"leak_v_leak": network.Scalar(650), "leak_i_bias": network.Scalar(300),
		"threshold_v_threshold": network.Scalar(420), "threshold_enable": network.Scalar(1),
		"reset_v_reset": network.Scalar(560), "reset_i_bias": network.Scalar(1022), "reset_enable_multiplication": network.Scalar(1),
		"membrane_capacitance_capacitance": network.Scalar(63), "refractory_period_refractory_time": network.Scalar(200),
		"excitatory_input_enable": network.Scalar(1), "excitatory_input_i_bias_gm": network.Scalar(300),
		"excitatory_input_i_bias_tau": network.Scalar(200), "excitatory_input_i_shift_reference": network.Scalar(300),
		"inhibitory_input_enable": network.Scalar(1), "inhibitory_input_i_bias_gm": network.Scalar(300),
		"inhibitory_input_i_bias_tau": network.Scalar(200), "inhibitory_input_i_shift_reference": network.Scalar(300),
	}
	rate := network.Scalar(10e3)
	d := &network.Description{Format: network.FormatName, Version: network.FormatVersion,
		Simulation: network.Simulation{Timestep: 3.4e-5, Seed: seed},
		System:     &network.Target{Name: "brainscales2", Options: json.RawMessage(os.Getenv("NMP_BSS2_OPTIONS"))},
		Populations: []network.Population{
			{Label: "neurons", Size: 512, CellType: hxNeuron, Parameters: neuron},
			{Label: "exc_input", Size: 192, CellType: sourcePoisson, Parameters: map[string]network.Value{"rate": rate}},
			{Label: "inh_input", Size: 64, CellType: sourcePoisson, Parameters: map[string]network.Value{"rate": rate}},
		},
		Projections: []network.Projection{
			{Label: "exc", Pre: network.Selection{{Population: 1}}, Post: network.Selection{{Population: 0}}, ReceptorType: "excitatory",
				Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(10)}}, Connector: &network.Connector{Type: "AllToAllConnector"}},
			{Label: "inh", Pre: network.Selection{{Population: 2}}, Post: network.Selection{{Population: 0}}, ReceptorType: "inhibitory",
				Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(-20)}}, Connector: &network.Connector{Type: "AllToAllConnector"}},
		},
		Recordings: []network.Recording{{Selection: network.Selection{{Population: 0}}, Variables: []string{"spikes"}}},
	}
	return d
}

// BenchmarkFullChip reports wall time per ms of hardware time on one thread.
func BenchmarkFullChip(b *testing.B) {
	d := fullChip(1)
	s := build(b, d)
	s.run(0.05) // warm up
	const hwMs = 1.0
	b.ResetTimer()
	t0, c0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		s.run(hwMs)
	}
	el, cpu := time.Since(t0), cpuTime()-c0
	b.StopTimer()
	perMs := el.Seconds() * 1e3 / (hwMs * float64(b.N))
	b.ReportMetric(perMs, "wall-ms/hw-ms")
	b.ReportMetric(cpu.Seconds()*1e3/(hwMs*float64(b.N)), "cpu-ms/hw-ms")
	b.ReportMetric(1000/perMs, "x-bio-realtime")
	segs := s.segments()
	n := len(segs[len(segs)-1].Spikes[0].Times)
	b.ReportMetric(float64(n)/512/(hwMs*float64(b.N)+0.05)/1e3*1e3, "Hz-bio-per-neuron")
	_ = fmt.Sprint
}

// cpuTime is the process's user and system time: on a shared machine it
// shows the cost without the time spent waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
