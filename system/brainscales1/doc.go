// Package brainscales1 is the emulated BrainScaleS-1 wafer-scale system
// and its software simulation, the ESS: a wafer of 384 HICANN chips in
// halco's coordinates (48 reticles, each with one FPGA), per HICANN 512
// denmems in 8 neuron blocks, two synapse arrays of 224 rows x 256 columns
// with 4-bit weights and 4-bit decoders, 224 synapse drivers, the L1
// network's buses and the L2 links' bandwidth; marocco's map & route
// (neuron placement with manual placement, merger routing, L1 addresses,
// input placement, L1 routing, synapse-driver assignment with the chain
// length constraint and Fieres' bin packing, synapse assignment) with its
// synapse-loss statistics; redman-style defects and calibtic-style
// calibration; parameter translation of AdEx neurons with per-denmem
// fixed-pattern noise; and the ESS's weight distortion and pulse-loss
// accounting.
//
// The mapping is a model of marocco's, not a port: where marocco's exact
// choice depends on details not reproduced here (the merger tree's
// switches, the crossbar's and synapse switches' exact patterns, the
// backbone router's scoring), the emulation takes the simpler rule
// docs/brainscales1.md names. Facts come from
// ../shared/reference/bss1-spikey-spinnaker.md §1-3.
package brainscales1
