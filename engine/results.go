package engine

// Segment holds what was recorded between two resets (PyNN's neo Segment).
type Segment struct {
	Index int
	// Spikes holds the recorded spikes of each population, by population index.
	Spikes []PopSpikes
	// Signals holds the sampled signals, in the order their recording started.
	Signals []*Signal
	// Runs lists the simulated durations of the segment's runs, in ms.
	Runs []float64
}

// PopSpikes is the spike record of one population within a segment.
type PopSpikes struct {
	// Recorded lists the local indices of the neurons whose spikes were
	// recorded at any time in the segment, sorted.
	Recorded []int32
	// IDs and Times are the spikes, ordered by time, then neuron.
	IDs   []int32
	Times []float64
}

// Signal is one variable of some neurons of a population, sampled at a
// fixed interval: Data[k*len(Indices)+j] is neuron Indices[j] at time
// TStart + k*Interval.
type Signal struct {
	Population int
	Variable   string
	Units      string
	Indices    []int32
	TStart     float64
	Interval   float64
	Data       []float64
	// Times, when set (by a system's readout), holds the time of each sample
	// in ms: the signal is irregularly sampled, as a hardware ADC with its
	// own clock delivers it, and Interval is only the mean interval. The
	// engine itself always samples on its grid and leaves Times nil.
	Times []float64
	// every is the sampling interval in steps; last the last step boundary
	// sampled (-1: none yet).
	every int64
	last  int64
	src   []float64
	// thread ranges into Indices
	ranges [][2]int
	closed bool
}

// Samples returns the number of samples recorded.
func (s *Signal) Samples() int {
	if len(s.Indices) == 0 {
		return 0
	}
	return len(s.Data) / len(s.Indices)
}
