// Package calib is the Spikey chip's calibration: the built-in calibrations
// of the guidebook (ADC, parameter cells, output pins, membrane time
// constant, synapse drivers, and the thresholds measured on the way), as
// measurement experiments on a chip and fits of their results.
//
// The package sees a chip only through Chip: what the real system offers
// its calibration software (configure neurons, shared voltages and line
// drivers, send spikes, record all neurons' spikes and one membrane through
// an output pin and the ADC, read a parameter cell or the board's reference
// through the ADC). It imports nothing of the emulation, so it cannot read
// the fixed-pattern noise it corrects; calib_test.go holds it to that.
package calib

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Chip geometry, as the calibration software knows it.
const (
	NumBlocks       = 2
	NeuronsPerBlock = 192
	NumNeurons      = NumBlocks * NeuronsPerBlock
	NumRows         = 256 // line drivers per block
	NumPins         = 8   // membrane output pins, 4 per block
	NumCells        = 4   // the shared voltage cells per block and parity (Cell)
)

// Cell names a parameter cell (vout) shared by the even or odd neurons of a
// block.
type Cell int

// The parameter cells the neuron model uses.
const (
	VRest Cell = iota
	VReset
	VThresh
	ERevI
)

func (c Cell) String() string {
	return [...]string{"v_rest", "v_reset", "v_thresh", "e_rev_I"}[c]
}

// PinOf is the output pin hardware neuron h's membrane leaves the chip on.
func PinOf(h int) int { return (h/NeuronsPerBlock)*4 + h%4 }

// Neuron configures one hardware neuron. The voltages are what the
// parameter cells of its block and parity are programmed to (mV, nominal
// translation, no calibration applied); the neurons of one group must
// agree.
type Neuron struct {
	HW                            int
	GLeak, TauRefrac              float64 // nS and ms, nominal translation
	VRest, VReset, VThresh, ERevI float64
}

// Input is a spike train on one line driver (row) of one block, reaching
// the target neurons with a 4-bit weight.
type Input struct {
	Block, Row int
	Times      []float64 // ms
	Inhibitory bool
	Weight     int   // 0..15
	Targets    []int // hardware neurons of Block
}

// Experiment is one emulation run.
type Experiment struct {
	Neurons []Neuron
	Inputs  []Input
	// Membrane is the hardware neuron whose membrane is recorded, -1 for none.
	Membrane int
	Duration float64 // ms
	// Seed makes the run's temporal noise repeatable.
	Seed uint64
}

// Result is what an experiment returns.
type Result struct {
	// Spikes holds the spike times (ms) of Experiment.Neurons[i].
	Spikes [][]float64
	// Membrane holds the ADC codes of the recorded membrane, one sample
	// every Interval ms from t = 0.
	Membrane []float64
	Interval float64
}

// Chip is what the calibration may do with a chip.
type Chip interface {
	// Station names the chip.
	Station() string
	// Run performs an experiment with no calibration applied.
	Run(e Experiment) (Result, error)
	// ReadReference switches the board's reference source, set to v (mV,
	// exact), onto the ADC and returns n codes.
	ReadReference(v float64, n int, seed uint64) ([]float64, error)
	// ReadCell programs a parameter cell to set (mV, nominal) and returns n
	// ADC codes of its output.
	ReadCell(block, parity int, c Cell, set float64, n int, seed uint64) ([]float64, error)
}

// Line is y = Offset + Gain*x.
type Line struct {
	Offset float64 `json:"offset"`
	Gain   float64 `json:"gain"`
}

// At is the line's value at x.
func (l Line) At(x float64) float64 { return l.Offset + l.Gain*x }

// Inverse is the x at which the line reaches y.
func (l Line) Inverse(y float64) float64 { return (y - l.Offset) / l.Gain }

// Version changes when a procedure changes, so that stored calibrations
// made by another are measured again.
const Version = 2

// Calibration is what the calibrations measured on one station.
type Calibration struct {
	Version int    `json:"version"`
	Station string `json:"station"`
	// ADC maps a voltage (mV) to ADC codes.
	ADC Line `json:"adc"`
	// Cells maps the programmed value of each parameter cell to its output
	// (mV), [block][parity][cell] flattened: index (block*2+parity)*4+cell.
	Cells []Line `json:"cells"`
	// Pins maps a membrane voltage to the pin's output as the calibrated ADC
	// reads it (mV), per output pin.
	Pins []Line `json:"pins"`
	// Leak maps the g_leak programmed (nS, nominal) to the leak conductance
	// measured from the membrane time constant (nS), per hardware neuron.
	Leak []Line `json:"leak"`
	// Thresh is each neuron's threshold minus its cell's output (mV).
	Thresh []float64 `json:"thresh"`
	// Drivers is the factor on each line driver's output that brings its
	// PSPs to the chip's median, [block*256+row].
	Drivers []float64 `json:"drivers"`
	// Seconds is the wall time the calibration took, Runs its experiments.
	Seconds float64 `json:"seconds"`
	Runs    int     `json:"runs"`
}

// Check reports a stored calibration that does not fit the chip.
func (c *Calibration) Check() error {
	switch {
	case c.Version != Version:
		return fmt.Errorf("made by calibration version %d, this is version %d", c.Version, Version)
	case len(c.Cells) != NumBlocks*2*NumCells, len(c.Pins) != NumPins, len(c.Leak) != NumNeurons,
		len(c.Thresh) != NumNeurons, len(c.Drivers) != NumBlocks*NumRows:
		return errors.New("wrong number of values")
	case c.ADC.Gain == 0:
		return errors.New("the ADC's gain is 0")
	}
	for _, l := range append(append(append([]Line{}, c.Cells...), c.Pins...), c.Leak...) {
		if l.Gain == 0 || math.IsNaN(l.Gain) || math.IsNaN(l.Offset) {
			return errors.New("a fit without gain")
		}
	}
	return nil
}

// CellIndex is the index of a cell in Calibration.Cells.
func CellIndex(block, parity int, c Cell) int { return (block*2+parity)*NumCells + int(c) }

// Program is the value to program a cell to so that it puts out v.
func (c *Calibration) Program(block, parity int, cell Cell, v float64) float64 {
	return c.Cells[CellIndex(block, parity, cell)].Inverse(v)
}

// GLeak is the g_leak to program so that neuron h leaks with g (nS).
func (c *Calibration) GLeak(h int, g float64) float64 {
	x := c.Leak[h].Inverse(g)
	return math.Max(x, 0.05*g) // the fit's floor: never switch a leak off
}

// Volts turns ADC codes into mV.
func (c *Calibration) Volts(code float64) float64 { return c.ADC.Inverse(code) }

// Membrane turns a pin's output as the ADC reads it (mV) into the membrane's.
func (c *Calibration) Membrane(pin int, read float64) float64 { return c.Pins[pin].Inverse(read) }

// Run calibrates a chip: the ADC against the board's reference, the
// parameter cells through the ADC, the output pins with a resting membrane
// of known voltage, the leak of every neuron from the membrane time
// constant at several g_leak (and its threshold from the same traces), and
// every line driver from its PSPs. Each step uses what the steps before it
// measured.
func Run(chip Chip) (*Calibration, error) {
	t0 := time.Now()
	s := &session{chip: chip, cal: &Calibration{Version: Version, Station: chip.Station()}}
	for _, step := range []struct {
		name string
		f    func() error
	}{{"ADC", s.adc}, {"parameter cells", s.cells}, {"output pins", s.pins}, {"membrane time constant", s.tauMem}, {"synapse drivers", s.drivers}} {
		if err := step.f(); err != nil {
			return nil, fmt.Errorf("calibration of %s: %s: %w", chip.Station(), step.name, err)
		}
	}
	s.cal.Seconds = time.Since(t0).Seconds()
	s.cal.Runs = s.runs
	return s.cal, s.cal.Check()
}

type session struct {
	chip Chip
	cal  *Calibration
	seed uint64
	runs int
}

func (s *session) next() uint64 { s.seed++; return s.seed }

func (s *session) run(e Experiment) (Result, error) {
	e.Seed = s.next()
	s.runs++
	return s.chip.Run(e)
}

func mean(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	return m / float64(len(xs))
}

func median(xs []float64) float64 {
	ys := append([]float64(nil), xs...)
	sort.Float64s(ys)
	n := len(ys)
	if n%2 == 1 {
		return ys[n/2]
	}
	return (ys[n/2-1] + ys[n/2]) / 2
}

// fitLine is the least-squares line through (x, y).
func fitLine(x, y []float64) (Line, error) {
	mx, my := mean(x), mean(y)
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	if sxx == 0 || len(x) < 2 {
		return Line{}, errors.New("a line through fewer than two distinct points")
	}
	g := sxy / sxx
	if g == 0 || math.IsNaN(g) {
		return Line{}, errors.New("no response to the sweep")
	}
	return Line{Offset: my - g*mx, Gain: g}, nil
}

// adc: the board's reference at five voltages across the membrane's range.
func (s *session) adc() error {
	var xs, ys []float64
	for v := -100.0; v <= -20; v += 20 {
		codes, err := s.chip.ReadReference(v, 200, s.next())
		if err != nil {
			return err
		}
		xs, ys = append(xs, v), append(ys, mean(codes))
	}
	l, err := fitLine(xs, ys)
	s.cal.ADC = l
	return err
}

// cells: every parameter cell swept over the voltages the neuron uses, read
// through the calibrated ADC.
func (s *session) cells() error {
	s.cal.Cells = make([]Line, NumBlocks*2*NumCells)
	for b := 0; b < NumBlocks; b++ {
		for par := 0; par < 2; par++ {
			for c := VRest; c <= ERevI; c++ {
				var xs, ys []float64
				for set := -90.0; set <= -40; set += 10 {
					codes, err := s.chip.ReadCell(b, par, c, set, 50, s.next())
					if err != nil {
						return err
					}
					xs, ys = append(xs, set), append(ys, s.cal.Volts(mean(codes)))
				}
				l, err := fitLine(xs, ys)
				if err != nil {
					return fmt.Errorf("block %d %s %s: %w", b, [2]string{"even", "odd"}[par], c, err)
				}
				s.cal.Cells[CellIndex(b, par, c)] = l
			}
		}
	}
	return nil
}

// quiet is a neuron at rest at v (cells calibrated), far from threshold.
func (s *session) quiet(h int, v float64) Neuron {
	b, par := h/NeuronsPerBlock, h%2
	return Neuron{HW: h, GLeak: 20, TauRefrac: 1,
		VRest: s.cal.Program(b, par, VRest, v), VReset: s.cal.Program(b, par, VReset, -80),
		VThresh: s.cal.Program(b, par, VThresh, -20), ERevI: s.cal.Program(b, par, ERevI, -80)}
}

// pins: for each pin a neuron on it rests at known voltages; the pin's
// output is the mean of the settled trace.
func (s *session) pins() error {
	s.cal.Pins = make([]Line, NumPins)
	for p := 0; p < NumPins; p++ {
		h := (p/4)*NeuronsPerBlock + p%4
		var xs, ys []float64
		for v := -85.0; v <= -45; v += 10 {
			res, err := s.run(Experiment{Neurons: []Neuron{s.quiet(h, v)}, Membrane: h, Duration: 60})
			if err != nil {
				return err
			}
			settled := res.Membrane[len(res.Membrane)/2:]
			xs, ys = append(xs, v), append(ys, s.cal.Volts(mean(settled)))
		}
		l, err := fitLine(xs, ys)
		if err != nil {
			return fmt.Errorf("pin %d: %w", p, err)
		}
		s.cal.Pins[p] = l
	}
	return nil
}

// Capacitance the translation assumes (nF): tau_mem = cm / g_leak.
const cm = 0.2

// leakSweep are the g_leak values (nS) each neuron is measured at.
var leakSweep = []float64{5, 10, 20, 40}

// tauMem: each neuron, one at a time (one membrane channel), fires with
// its resting potential above threshold; the membrane's approach to rest
// after each reset is fitted by an exponential, whose time constant gives
// the leak; the samples before each spike give the threshold. Swept over
// g_leak, a line per neuron maps the programmed to the measured leak.
func (s *session) tauMem() error {
	s.cal.Leak = make([]Line, NumNeurons)
	s.cal.Thresh = make([]float64, NumNeurons)
	for h := 0; h < NumNeurons; h++ {
		b, par := h/NeuronsPerBlock, h%2
		var xs, ys, ths []float64
		for _, g := range leakSweep {
			for above := 2.0; above <= 20; above += 3 {
				tau := cm / g * 1e3
				n := Neuron{HW: h, GLeak: g, TauRefrac: 1,
					VRest: s.cal.Program(b, par, VRest, -55+above), VReset: s.cal.Program(b, par, VReset, -80),
					VThresh: s.cal.Program(b, par, VThresh, -55), ERevI: s.cal.Program(b, par, ERevI, -80)}
				res, err := s.run(Experiment{Neurons: []Neuron{n}, Membrane: h, Duration: math.Min(12*tau*math.Log(25/above+1)+20, 2000)})
				if err != nil {
					return err
				}
				spikes := res.Spikes[0]
				if len(spikes) < 6 {
					continue // rest not far enough above this neuron's threshold: raise it
				}
				v := make([]float64, len(res.Membrane))
				for i, c := range res.Membrane {
					v[i] = s.cal.Membrane(PinOf(h), s.cal.Volts(c))
				}
				fit, th, ok := fitCharging(v, res.Interval, spikes, tau)
				if !ok {
					continue // too short a charging curve to fit: try again further above
				}
				xs, ys = append(xs, g), append(ys, cm/fit*1e3)
				ths = append(ths, th-(-55))
				break
			}
		}
		if len(xs) < 3 {
			return fmt.Errorf("neuron %d: its charging curve could be measured at only %d of %d leak settings (rest 2 to 20 mV above threshold)", h, len(xs), len(leakSweep))
		}
		l, err := fitLine(xs, ys)
		if err != nil {
			return fmt.Errorf("neuron %d: %w", h, err)
		}
		s.cal.Leak[h], s.cal.Thresh[h] = l, median(ths)
	}
	return nil
}

// fitCharging averages the membrane between spikes, aligned at each reset,
// and fits V(t) = A + B exp(-t/tau) to it from 1.5 ms after the reset (past
// the refractory time) to the shortest interval's end. It returns tau (ms)
// and the threshold: the mean of the samples just before the spikes.
func fitCharging(v []float64, dt float64, spikes []float64, hint float64) (tau, thresh float64, ok bool) {
	isi := math.Inf(1)
	for i := 1; i < len(spikes); i++ {
		isi = math.Min(isi, spikes[i]-spikes[i-1])
	}
	skip := int(math.Round(1.5 / dt))
	n := int((isi-0.5)/dt) - skip
	if n < 8 {
		return 0, 0, false
	}
	avg := make([]float64, n)
	segs := 0
	var thr float64
	for i := 0; i+1 < len(spikes); i++ {
		k0 := int(math.Round(spikes[i]/dt)) + skip
		if k0+n > len(v) {
			break
		}
		for k := 0; k < n; k++ {
			avg[k] += v[k0+k]
		}
		segs++
	}
	nth := 0
	for _, t := range spikes {
		k := int(math.Round(t/dt)) - 1
		if k >= 0 && k < len(v) {
			thr += v[k]
			nth++
		}
	}
	if segs == 0 || nth == 0 {
		return 0, 0, false
	}
	for k := range avg {
		avg[k] /= float64(segs)
	}
	// For a given tau the best A, B are a linear fit; search tau on a log
	// grid around the nominal value (the fixed-pattern noise stays within a
	// factor of 5 of it), then refine by golden section.
	x := make([]float64, n)
	sse := func(tau float64) float64 {
		q, xk := math.Exp(-dt/tau), 1.0
		for k := range x {
			x[k] = xk
			xk *= q
		}
		l, err := fitLine(x, avg)
		if err != nil {
			return math.Inf(1)
		}
		e := 0.0
		for k := range x {
			d := avg[k] - l.At(x[k])
			e += d * d
		}
		return e
	}
	best, bestE := 0.0, math.Inf(1)
	for lt := math.Log(hint / 5); lt <= math.Log(hint*5); lt += 0.1 {
		if e := sse(math.Exp(lt)); e < bestE {
			best, bestE = lt, e
		}
	}
	lo, hi := best-0.1, best+0.1
	const gr = 0.6180339887498949
	a, b := hi-gr*(hi-lo), lo+gr*(hi-lo)
	ea, eb := sse(math.Exp(a)), sse(math.Exp(b))
	for i := 0; i < 30; i++ {
		if ea < eb {
			hi, b, eb = b, a, ea
			a = hi - gr*(hi-lo)
			ea = sse(math.Exp(a))
		} else {
			lo, a, ea = a, b, eb
			b = lo + gr*(hi-lo)
			eb = sse(math.Exp(b))
		}
	}
	return math.Exp((lo + hi) / 2), thr / float64(nth), true
}

// PSP measurement: every row of a block in turn stimulates a few neurons
// of the block (time-multiplexed: row r fires at slot r, far enough apart
// for the PSP before to have ended), whose membranes are recorded in
// separate runs; a row's strength is its PSPs' mean area over those
// neurons (the area, unlike the peak, is not biased by the noise).
const (
	pspWeight  = 7
	pspLeak    = 40.0 // nS: a short membrane time constant keeps PSPs short
	pspSlot    = 40.0 // ms between the spikes of consecutive rows
	pspWindow  = 30.0 // ms of each PSP integrated
	pspRepeats = 3
	pspProbes  = 4 // neurons per block whose membranes are recorded
)

func (s *session) drivers() error {
	heights := make([]float64, NumBlocks*NumRows)
	period := pspSlot * NumRows
	for b := 0; b < NumBlocks; b++ {
		for probe := 0; probe < pspProbes; probe++ {
			h := b*NeuronsPerBlock + probe*(NeuronsPerBlock/pspProbes) + 7
			n := s.quiet(h, -75)
			n.GLeak = pspLeak
			n.VThresh = s.cal.Program(b, h%2, VThresh, -40)
			e := Experiment{Neurons: []Neuron{n}, Membrane: h, Duration: period * pspRepeats}
			for r := 0; r < NumRows; r++ {
				in := Input{Block: b, Row: r, Weight: pspWeight, Targets: []int{h}}
				for k := 0; k < pspRepeats; k++ {
					in.Times = append(in.Times, float64(k)*period+float64(r)*pspSlot+5)
				}
				e.Inputs = append(e.Inputs, in)
			}
			res, err := s.run(e)
			if err != nil {
				return err
			}
			if len(res.Spikes[0]) > 0 {
				return fmt.Errorf("neuron %d fired during the PSP measurement", h)
			}
			dt := res.Interval
			pre, post := int(2/dt), int(pspWindow/dt)
			avg := make([]float64, pre+post)
			for r := 0; r < NumRows; r++ {
				// the mean trace around the row's spikes: baseline over
				// the 2 ms before, area over the window after
				clear(avg)
				for k := 0; k < pspRepeats; k++ {
					i0 := int(math.Round((float64(k)*period+float64(r)*pspSlot+5)/dt)) - pre
					for i := range avg {
						if i0+i < len(res.Membrane) {
							avg[i] += s.cal.Volts(res.Membrane[i0+i]) / pspRepeats
						}
					}
				}
				base, area := mean(avg[:pre]), 0.0
				for _, x := range avg[pre:] {
					area += (x - base) * dt
				}
				heights[b*NumRows+r] += area / pspProbes
			}
		}
	}
	target := median(heights)
	s.cal.Drivers = make([]float64, len(heights))
	for i, x := range heights {
		if !(x > 0) {
			return fmt.Errorf("block %d row %d: no PSP", i/NumRows, i%NumRows)
		}
		s.cal.Drivers[i] = target / x
	}
	return nil
}
