package brainscales1

import (
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
)

// Parameter translation (marocco's ParamTrafo): voltages go to floating
// gates as V_hw = 10 V_bio + 1.2 V, 10-bit cells over 0..1.8 V; time
// constants scale by the speed-up; conductances by C_hw / cm_bio and the
// speed-up. A logical neuron's capacitance is its denmems' in parallel.
const (
	alphaV   = 10.0 // V per V
	shiftV   = 1.2  // V
	fgMaxV   = 1.8  // V, a floating gate's range
	fgLevels = 1023
	bigCap   = 2.16456e-12 // F per denmem (use_big_capacitors)
	smallCap = 164.2e-15   // F per denmem
	// ghwMax is a synapse's largest conductance in hardware (V_gmax 1023,
	// gmax_div 1+1, weight 15), in uS. An assumption: it puts a weight-15
	// synapse onto a 4-denmem neuron with big capacitors at 0.005 uS for
	// cm = 0.2 nF, the strength the seed's single-neuron example needs.
	ghwMax = 2.16
)

// Fixed-pattern noise, per denmem, and what calibration leaves of it
// (assumptions; docs/brainscales1.md): voltages in biological mV, the
// others relative. A logical neuron averages its denmems (sigma/sqrt(n)).
type fpn struct{ volt, rel, syn float64 }

var (
	uncalibrated = fpn{volt: 2.5, rel: 0.20, syn: 0.10}
	calibrated   = fpn{volt: 0.5, rel: 0.03, syn: 0.05}
)

var voltParams = map[string]bool{"v_rest": true, "v_reset": true, "v_thresh": true, "e_rev_E": true, "e_rev_I": true, "v_spike": true}
var relParams = map[string]bool{"tau_m": true, "tau_syn_E": true, "tau_syn_I": true, "tau_refrac": true, "tau_w": true, "a": true, "b": true, "delta_T": true}

// neuronParams holds each logical neuron's translated parameters.
type neuronParams struct {
	vals map[string][]float64 // by population-local index, per population
	gmax []float64            // per population-local index (uS bio)
}

// translate computes every neuron's realised parameters and every synapse's
// digital weight and effective conductance.
func (m *mapper) translate() error {
	d := m.d
	hw := m.opts.Backend == "hardware"
	noise := uncalibrated
	if m.opts.Calib.Backend != "default" {
		noise = calibrated
	}
	if !hw {
		noise = fpn{} // the ESS models the ideal circuits
	}
	cap := bigCap
	if !m.opts.bigCaps() {
		cap = smallCap
	}
	m.params = make([]neuronParams, len(d.Populations))
	for p, pop := range d.Populations {
		if isSource(pop.CellType) {
			continue
		}
		ct := userCatalog.Cells[pop.CellType]
		np := neuronParams{vals: map[string][]float64{}, gmax: make([]float64, pop.Size)}
		for _, par := range ct.Params {
			xs := make([]float64, pop.Size)
			v, given := pop.Parameters[par.Name]
			for i := range xs {
				x := par.Default
				if given {
					x = v.At(i)
				}
				k := m.pl.of[p][i]
				h, x0, size := int(m.pl.hicann[k]), int(m.pl.x[k]), int(m.pl.size[k])
				switch {
				case voltParams[par.Name]:
					vhw := alphaV*x*1e-3 + shiftV
					if vhw < 0 || vhw > fgMaxV {
						m.clipped = append(m.clipped, fmt.Sprintf("%s.%s = %g mV is outside the floating gates' range (%g to %g mV); clipped", d.PopName(p), par.Name, x, (0-shiftV)/alphaV*1e3, (fgMaxV-shiftV)/alphaV*1e3))
						vhw = math.Min(math.Max(vhw, 0), fgMaxV)
					}
					vhw = math.Round(vhw/fgMaxV*fgLevels) / fgLevels * fgMaxV
					x = (vhw - shiftV) / alphaV * 1e3
					x += noise.volt * m.denmemNoise(h, x0, size, par.Name)
				case relParams[par.Name]:
					x *= math.Max(0.05, 1+noise.rel*m.denmemNoise(h, x0, size, par.Name))
				}
				xs[i] = x
			}
			np.vals[par.Name] = xs
		}
		for i := range np.gmax {
			k := m.pl.of[p][i]
			cm := np.vals["cm"][i] * 1e-9
			np.gmax[i] = ghwMax * cm / (float64(m.pl.size[k]) * cap) / speedup
		}
		m.params[p] = np
	}
	// rows: gmax_div from the largest weight relative to its target's range
	for i := range m.projs {
		pc := &m.projs[i]
		for k := range pc.src {
			if pc.status[k] != realized {
				continue
			}
			rel := pc.w[k] / m.gmaxOf(pc.tgt[k])
			rc := &m.rowCfg[int(pc.hicann[k])][pc.row[k]]
			rc.maxRel = math.Max(rc.maxRel, rel)
		}
	}
	for _, cfg := range m.rowCfg {
		for r := range cfg {
			rc := &cfg[r]
			rc.divSum = 2
			if rc.maxRel > 0 {
				rc.divSum = max(2, min(30, int(math.Floor(2/rc.maxRel))))
			}
		}
	}
	over := map[int]*HICANNConfig{}
	for i := range m.opts.HICANNs {
		over[m.opts.HICANNs[i].HICANN] = &m.opts.HICANNs[i]
	}
	weightOver := map[[3]int]int{}
	for h, c := range over {
		for _, w := range c.Weights {
			weightOver[[3]int{h, w[0], w[1]}] = w[2]
		}
	}
	distort := m.opts.Backend == "ess" && m.opts.ESS.EnableWeightDistortion && m.opts.ESS.WeightDistortion > 0
	for i := range m.projs {
		pc := &m.projs[i]
		pc.eff = make([]float64, len(pc.src))
		for k := range pc.src {
			if pc.status[k] != realized {
				continue
			}
			h, row, col := int(pc.hicann[k]), int(pc.row[k]), int(pc.col[k])
			rc := &m.rowCfg[h][row]
			gmax := m.gmaxOf(pc.tgt[k])
			gRow := gmax * 2 / float64(rc.divSum)
			dig := int(math.Round(15 * pc.w[k] / gRow))
			if dig > 15 {
				dig = 15
				m.clippedWeights++
			}
			vg := 1023.0
			div := rc.divSum
			if c := over[h]; c != nil {
				if c.VGmax != nil {
					vg = c.VGmax[fgBlockOf(row, col)][rc.vgmax]
				}
				if c.GmaxDiv != nil {
					drv, r := row/2, row%2
					if a, b := c.GmaxDiv[4*drv+2*r], c.GmaxDiv[4*drv+2*r+1]; a >= 0 && b >= 0 {
						div = a + b
					}
				}
			}
			if w, ok := weightOver[[3]int{h, row, col}]; ok {
				dig = w
			}
			pc.dig[k] = int8(dig)
			g := 0.0
			if div > 0 {
				g = float64(dig) / 15 * gmax * vg / 1023 * 2 / float64(div)
			}
			if hw {
				r := rng.New(rng.Derive(uint64(m.opts.Wafer), domSynapse, uint64(h), uint64(row), uint64(col)))
				g *= math.Max(0, 1+noise.syn*r.Normal())
			}
			if distort {
				r := rng.New(rng.Derive(m.d.Simulation.Seed, domDistortion, uint64(h), uint64(row), uint64(col)))
				g *= math.Max(0, 1+m.opts.ESS.WeightDistortion*r.Normal())
			}
			pc.eff[k] = g
		}
	}
	return nil
}

// fgBlockOf is the floating-gate block (FGBlockOnHICANN Enum) whose shared
// V_gmax values serve a synapse: left or right half of the columns, top or
// bottom array.
func fgBlockOf(row, col int) int {
	b := 0
	if col >= denmemsPerRow/2 {
		b = 1
	}
	if row >= rowsPerArray {
		b += 2
	}
	return b
}

func (m *mapper) gmaxOf(k int32) float64 {
	return m.params[m.pl.pop[k]].gmax[m.pl.index[k]]
}

// denmemNoise is a logical neuron's fixed-pattern deviation of one
// parameter in units of the per-denmem sigma: the mean of its denmems'
// standard normal draws (which depend on the wafer, HICANN and denmem).
func (m *mapper) denmemNoise(h, x0, size int, name string) float64 {
	var key uint64
	for _, c := range name {
		key = key*131 + uint64(c)
	}
	sum := 0.0
	for c := x0; c < x0+size/2; c++ {
		for y := 0; y < 2; y++ {
			r := rng.New(rng.Derive(uint64(m.opts.Wafer), domMismatch, uint64(h), uint64(y*denmemsPerRow+c), key))
			sum += r.Normal()
		}
	}
	return sum / float64(size)
}

var _ = network.Scalar
