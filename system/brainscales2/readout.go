package brainscales2

import (
	"math"
	"sort"
	"strings"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
)

// Readout turns the engine's view of the circuits (voltages on the engine's
// grid) into what the chip's readout delivers: the membrane ADC's 10-bit
// samples about every 34 ns, time-stamped by the FPGA's 8 ns clock, through
// the circuit's readout buffer and the channel's offset and gain, with
// sample noise; and the CADC's 8-bit samples at its period. Each recorded
// neuron becomes its own signal, as pynn-brainscales returns one
// IrregularlySampledSignal per neuron.

// CADC transfer: calix's CADC calibration maps CapMem 70 to 20 and 550 to
// 220 LSB (the ramp's default dynamic range).
var (
	cadcV0    = capV(70)
	cadcSlope = 200 / (capV(550) - capV(70)) // LSB per V
)

func (pl *plan) readout(segs []*engine.Segment) ([]*engine.Segment, error) {
	out := make([]*engine.Segment, len(segs))
	first := 0
	if len(segs) > 0 {
		first = segs[0].Index
	}
	for si, seg := range segs {
		ns := &engine.Segment{Index: seg.Index, Spikes: pl.spikeTimes(seg, first), Runs: seg.Runs}
		for k, sig := range seg.Signals {
			if !pl.hxPop[sig.Population] || sig.Samples() == 0 {
				ns.Signals = append(ns.Signals, sig)
				continue
			}
			for j, idx := range sig.Indices {
				ns.Signals = append(ns.Signals, pl.convert(seg.Index, k, sig, j, int(idx)))
			}
		}
		out[si] = ns
	}
	return out, nil
}

// convert reads column j (neuron idx) of an engine signal through the ADC.
func (pl *plan) convert(segIndex, k int, sig *engine.Signal, j, idx int) *engine.Signal {
	c := pl.mp.circuits[sig.Population][idx]
	ncol := len(sig.Indices)
	n := sig.Samples()
	at := func(s int) float64 { return sig.Data[s*ncol+j] }
	seed := rng.Derive(pl.user.Simulation.Seed, domMADC, uint64(segIndex), uint64(k), uint64(idx))
	r := rng.New(seed)
	cadc := strings.HasSuffix(sig.Variable, cadcSuffix)
	out := &engine.Signal{Population: sig.Population, Variable: sig.Variable, Units: "dimensionless", Indices: []int32{int32(idx)}, TStart: sig.TStart}
	if cadc {
		out.Interval = sig.Interval
		out.Data = make([]float64, n)
		out.Times = make([]float64, n)
		for s := 0; s < n; s++ {
			v := at(s)
			code := 20 + (v-cadcV0)*cadcSlope + pl.cm.cadcOff[c]
			if pl.opts.CADC != nil {
				code = cadcRead(v, c, pl.opts.CADC, pl.cadcMismatch())
			}
			code += pl.opts.Noise.CADCLSB * r.Normal()
			out.Data[s] = clampLSB(code, cadcFullScale)
			out.Times[s] = sig.TStart + float64(s)*sig.Interval
		}
		return out
	}
	// MADC: samples every 34 ns from an arbitrary phase; the engine's grid
	// is interpolated linearly.
	ch := c % madcChannels
	periodMs := madcPeriodNs * 1e-6
	tEnd := sig.TStart + float64(n-1)*sig.Interval
	t := sig.TStart + r.Float64()*periodMs
	m := int(math.Max(0, math.Floor((tEnd-t)/periodMs)+1))
	out.Interval = periodMs
	out.Data = make([]float64, 0, m)
	out.Times = make([]float64, 0, m)
	gain := pl.cm.madcGain[ch] * madcFullScale / capMemFullV
	off := pl.cm.readoutOff[c] + pl.cm.madcOff[ch]
	for q := 0; q < m; q++ {
		tq := t + float64(q)*periodMs
		x := (tq - sig.TStart) / sig.Interval
		s := int(x)
		v := at(min(s, n-1))
		if s+1 < n {
			f := x - float64(s)
			v += f * (at(s+1) - v)
		}
		code := (v+off)*gain + pl.opts.Noise.MADCLSB*r.Normal()
		out.Data = append(out.Data, clampLSB(code, madcFullScale))
		// The FPGA stamps each sample with its 8 ns clock.
		out.Times = append(out.Times, math.Floor(tq*1e6/fpgaTickNs)*fpgaTickNs*1e-6)
	}
	return out
}

func clampLSB(x float64, full float64) float64 {
	x = math.Round(x)
	if x < 0 {
		return 0
	}
	if x > full {
		return full
	}
	return x
}

// spikeTimes returns the segment's spikes with the circuits' spikes at the
// time of their threshold crossing as the FPGA stamps it (8 ns clock),
// instead of the end of the engine step that detected them.
func (pl *plan) spikeTimes(seg *engine.Segment, first int) []engine.PopSpikes {
	out := make([]engine.PopSpikes, len(seg.Spikes))
	stepMs := pl.dtMs
	for p, ps := range seg.Spikes {
		m := pl.rt.neurons[p]
		if m == nil || len(ps.Times) == 0 {
			out[p] = ps
			continue
		}
		fr := m.spikeFractions(seg.Index, first)
		type sp struct {
			t  float64
			id int32
		}
		sps := make([]sp, len(ps.Times))
		for k, t := range ps.Times {
			stamp := int64(math.Round(t / stepMs))
			tt := t
			if f, ok := fr[[2]int64{stamp, int64(ps.IDs[k])}]; ok {
				tt = t - (1-f)*stepMs
			}
			sps[k] = sp{math.Floor(tt*1e6/fpgaTickNs+1e-6) * fpgaTickNs * 1e-6, ps.IDs[k]}
		}
		sort.SliceStable(sps, func(a, b int) bool {
			if sps[a].t != sps[b].t {
				return sps[a].t < sps[b].t
			}
			return sps[a].id < sps[b].id
		})
		np := engine.PopSpikes{Recorded: ps.Recorded, IDs: make([]int32, len(sps)), Times: make([]float64, len(sps))}
		for k, s := range sps {
			np.IDs[k], np.Times[k] = s.id, s.t
		}
		out[p] = np
	}
	return out
}
