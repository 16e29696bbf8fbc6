// Package brainscales2 emulates one BrainScaleS-2 chip (HICANN-X v3) as
// an nmp system named "brainscales2": a description written for the chip
// (HXNeuron populations with their raw CapMem codes, spike sources, static
// 6-bit synapses) is checked against the chip's resources, its neurons are
// placed on the 512 analog circuits and its connections on the synapse
// arrays and drivers, its codes are translated through the circuits'
// transfer functions with per-circuit mismatch, and it runs on nmp's engine
// 1000 times faster than biology. Actions between runs go through the same
// limits, and the readout reports what the chip's ADCs (MADC, CADC) would:
// irregular samples in ADC units, with temporal noise.
//
// Hardware (hw.go) is the chip as a calibration sees it; the calibration
// itself (calix) is package calib. It does not emulate the plasticity processor,
// plastic synapses, multi-compartment neurons or the analog pads; settings
// that need them are refused, not silently ignored. The facts it rests on,
// its assumptions and its departures from the real chip are in
// docs/brainscales2.md.
package brainscales2
