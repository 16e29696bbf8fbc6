// Package engine is nmp's simulation kernel: it compiles a validated network
// description into flat state and runs it on a fixed time grid. It knows
// nothing of HTTP, SQL or Python; systems (the ideal reference, hardware
// emulations) hand it a description and a model catalog and read back spikes,
// sampled signals and synaptic state.
//
// # Time grid
//
// Step n advances the state from t_n = n*dt to t_(n+1). A neuron that crosses
// threshold in step n spikes at t_(n+1). A spike at t_s with a delay of D steps
// arrives at t_(s+D): it is added to the synaptic state at the end of step
// s+D-1, so that the membrane feels it from t_(s+D) on. This is NEST's
// convention; delays are whole steps, at least one.
//
// # Layout
//
// Neurons of all populations share one global index space, in population
// order. Per-neuron state lives in flat slices per variable (struct of
// arrays). Synapses are stored per projection in compressed rows by
// presynaptic neuron, with 32-bit targets and weights and, where delays
// differ, 16-bit delays. Arrivals accumulate in one ring buffer per receptor
// channel, laid out [slot][neuron].
//
// # Threads and determinism
//
// Each thread owns a contiguous range of neurons and the synapses that end
// on them. In every step, a thread advances its neurons, then, after one
// barrier, delivers all spikes of the step to its own targets. Spikes are
// delivered in neuron order and every random stream is derived from the seed
// and the identity of what it drives (a neuron, a synapse row), never from a
// thread, so results are bit-identical for any thread count.
package engine
