package spikey

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
	"github.com/nmp-platform/nmp/system/spikey/calib"
)

// System is the emulated Spikey chip.
type System struct{}

func init() { system.Register(System{}) }

// Name is "spikey".
func (System) Name() string { return "spikey" }

// Catalog is what a description for the chip may use.
func (System) Catalog() *network.Catalog { return userCatalog }

// Random stream domains of a plan.
const (
	domWeights uint64 = iota + 1
	domParams
	domNoise
	domReadout
)

// driverUse is one line driver as the network configures it.
type driverUse struct {
	block, row int
	source     string // "neuron N" (hardware) or "external K"
	inh        bool
	proj       int // the projection that configured it first
	stp        stpConf
	fall, out  float64 // factors
	plastic    int     // plastic row index, -1 if static
	shape      int
}

type stpConf struct {
	on               bool
	u, tauRec, tauFa float64
}

// plan is a description prepared for the chip.
type plan struct {
	user    *network.Description
	opts    Options
	chip    *chip
	cal     *calib.Calibration // nil in raw runs
	raw     bool
	offset  []int // global id of each population's first neuron (over all populations)
	neuron  []bool
	hw      []int // hardware neuron of each global id (-1 for sources)
	ext     []int // external index of each global id (-1 for neurons)
	drivers map[[2]int]*driverUse
	shapes  []shape
	plastic []*driverUse
	// per hardware neuron
	gL, refr, vth, vrest, vreset, erevI []float64
	groupOwner                          map[[2]int]int // (block, parity) -> hw neuron that set the shared voltages
	warnings                            []string
	// clipped counts, per projection, the weights above 15 LSB set to 15
	// (PyNN 0.6's discretizeWeight clips them); the largest asked, in uS
	clipped    map[string]int
	clippedMax map[string]float64
	clippedAt  []clipNote
	// synapses, for the configuration dump: (block, row, col) -> digital weight
	weights map[[3]int]int
	// quant is what the 4-bit weights did to each projection's weights
	// (the mapping report's changes, which nmp compare reads).
	quant []weightQuant
	// engine model input per population
	pops map[int]*popPlan
	// membrane: the one recorded neuron (population, index), or -1
	vPop, vIdx int
	info       map[string]any
}

// shape is one driver time course (rise and fall) and sign.
type shape struct {
	inh            bool
	tauRise, tauFa float64
}

// popPlan is what the engine model of one neuron population needs.
type popPlan struct {
	hw []int
	// plastic rows feeding this population: per row m, the local targets'
	// initial digital weights (NaN where not connected), µS per LSB and
	// correlation thresholds.
	plastic map[int]*plasticIn
}

type plasticIn struct {
	w, lsb, thr []float64
}

// Prepare checks d against the chip, maps it and returns the engine plan.
func (System) Prepare(d *network.Description) (*system.Plan, error) { return prepare(d, false) }

// prepare maps d; raw (the calibration's runs) programs the parameters as
// given, applies no calibration and reads the membrane out as ADC codes.
func prepare(d *network.Description, raw bool) (*system.Plan, error) {
	var rawOpts []byte
	if d.System != nil {
		rawOpts = d.System.Options
	}
	opts, err := parseOptions(rawOpts)
	if err != nil {
		return nil, err
	}
	if err := network.Validate(d, userCatalog, network.Limits{}); err != nil {
		return nil, err
	}
	if len(d.CurrentSources) > 0 {
		return nil, errors.New("current_sources: the Spikey chip has no current sources (drive a neuron by setting v_rest above v_thresh, or with spike sources)")
	}
	if d.Simulation.Timestep != 0 && math.Abs(d.Simulation.Timestep-timestep) > 1e-9 {
		return nil, fmt.Errorf("simulation.timestep: the Spikey emulation runs at %g ms (got %g)", timestep, d.Simulation.Timestep)
	}
	pl := &plan{user: d, opts: opts, chip: chipOf(opts.Station), drivers: map[[2]int]*driverUse{},
		groupOwner: map[[2]int]int{}, weights: map[[3]int]int{}, pops: map[int]*popPlan{}, vPop: -1, vIdx: -1, raw: raw}
	if !raw {
		// The ADC and parameter-cell calibrations are always applied (as
		// the real system's software does); the others by setup's flags.
		var note string
		if pl.cal, note, err = calibrationOf(opts.Station); err != nil {
			return nil, err
		}
		if note != "" {
			pl.warnings = append(pl.warnings, note)
		}
	}
	if err := pl.place(); err != nil {
		return nil, err
	}
	if err := pl.neuronParams(); err != nil {
		return nil, err
	}
	ed, err := pl.connect()
	if err != nil {
		return nil, err
	}
	if err := pl.recordings(ed); err != nil {
		return nil, err
	}
	pl.buildInfo()
	cat := engineCatalog(len(pl.shapes), len(pl.plastic))
	models := map[string]engine.ModelFactory{
		sourceArray: engine.StandardModels[sourceArray],
		sourcePois:  engine.StandardModels[sourcePois],
		engineCell: func(p *engine.Population) (engine.Model, error) {
			return pl.newModel(p)
		},
	}
	return &system.Plan{Description: ed, Catalog: cat, Models: models, Readout: pl.readout, Info: pl.info,
		Action: pl.action}, nil
}

// place assigns hardware neurons and external inputs.
func (pl *plan) place() error {
	d := pl.user
	perm := make([]int, numNeurons)
	for i := range perm {
		perm[i] = i
		if pl.opts.NeuronPermutation != nil {
			perm[i] = pl.opts.NeuronPermutation[i]
		}
	}
	pl.offset = make([]int, len(d.Populations)+1)
	pl.neuron = make([]bool, len(d.Populations))
	total := 0
	for i := range d.Populations {
		pl.offset[i+1] = pl.offset[i] + d.Populations[i].Size
		if d.Populations[i].CellType == cellName {
			pl.neuron[i] = true
			total += d.Populations[i].Size
		}
	}
	pl.hw = make([]int, pl.offset[len(d.Populations)])
	pl.ext = make([]int, len(pl.hw))
	bio, ext := 0, 0
	for i := range d.Populations {
		p := &d.Populations[i]
		for j := 0; j < p.Size; j++ {
			g := pl.offset[i] + j
			pl.hw[g], pl.ext[g] = -1, -1
			if pl.neuron[i] {
				if bio >= numNeurons {
					return fmt.Errorf("%s: ERROR: Network is larger than chip size! The network has %d IF_facets_hardware1 neurons in all; the chip has %d", d.PopName(i), total, numNeurons)
				}
				pl.hw[g] = perm[(bio+pl.opts.MappingOffset)%numNeurons]
				bio++
			} else {
				if ext >= driversPerBlock {
					return fmt.Errorf("%s: ERROR: Invalid source index! The chip takes at most %d external spike sources (one line driver each, per block)", d.PopName(i), driversPerBlock)
				}
				pl.ext[g] = ext
				ext++
			}
		}
		if !pl.neuron[i] {
			pl.pops[i] = nil
		}
	}
	return nil
}

// fill returns n values of v (or def), drawing random values from seed.
func fill(v *network.Value, n int, def float64, seed uint64) []float64 {
	out := make([]float64, n)
	switch {
	case v == nil || !v.IsSet():
		for i := range out {
			out[i] = def
		}
	case v.Kind == network.KindRandom:
		r := rng.New(seed)
		for i := range out {
			out[i] = v.Dist.Draw(&r)
		}
	case v.Kind == network.KindArray && v.Len() != 1:
		copy(out, v.Array.Float64s())
	default:
		x := v.At(0)
		for i := range out {
			out[i] = x
		}
	}
	return out
}

// neuronParams translates the neurons' parameters: g_leak and tau_refrac
// per neuron, the voltages per block and neuron parity, the first neuron
// configured deciding (as pyhal_config_s1v2 does).
func (pl *plan) neuronParams() error {
	d := pl.user
	for _, xs := range []*[]float64{&pl.gL, &pl.refr, &pl.vth, &pl.vrest, &pl.vreset, &pl.erevI} {
		*xs = make([]float64, numNeurons)
	}
	type shared struct{ vrest, vreset, vth, erevI float64 }
	groups := map[[2]int]shared{}
	ct := userCatalog.Cells[cellName]
	for i := range d.Populations {
		if !pl.neuron[i] {
			continue
		}
		p := &d.Populations[i]
		get := func(name string) []float64 {
			var vp *network.Value
			if v, ok := p.Parameters[name]; ok {
				vp = &v
			}
			return fill(vp, p.Size, ct.Param(name).Default, rng.Derive(d.Simulation.Seed, domParams, uint64(i), uint64(len(name))))
		}
		gl, tr, vr, vs, vt, ei := get("g_leak"), get("tau_refrac"), get("v_rest"), get("v_reset"), get("v_thresh"), get("e_rev_I")
		pp := &popPlan{hw: make([]int, p.Size), plastic: map[int]*plasticIn{}}
		pl.pops[i] = pp
		for j := 0; j < p.Size; j++ {
			h := pl.hw[pl.offset[i]+j]
			pp.hw[j] = h
			if gl[j] <= 0 {
				return fmt.Errorf("%s.parameters.g_leak: neuron %d: %g nS must be positive", d.PopName(i), j, gl[j])
			}
			pl.gL[h], pl.refr[h] = gl[j], tr[j]
			key := [2]int{h / neuronsPerBlock, h % 2}
			want := shared{vr[j], vs[j], vt[j], ei[j]}
			if got, ok := groups[key]; ok {
				if got != want {
					pl.warnings = append(pl.warnings, fmt.Sprintf("%s neuron %d (hardware %d): v_rest, v_reset, v_thresh and e_rev_I are shared by the %s neurons of block %d; it keeps those of hardware neuron %d (%g, %g, %g, %g mV)",
						d.PopName(i), j, h, [2]string{"even", "odd"}[h%2], key[0], pl.groupOwner[key], got.vrest, got.vreset, got.vth, got.erevI))
				}
				want = got
			} else {
				groups[key] = want
				pl.groupOwner[key] = h
				for _, x := range []float64{want.vrest, want.vreset, want.vth, want.erevI} {
					if x < -80 || x > -55 {
						if x > want.vth && x == want.vrest {
							continue // v_rest above threshold: the usual way to make a neuron fire on its own
						}
						pl.warnings = append(pl.warnings, fmt.Sprintf("%s: voltages outside -80..-55 mV may not be supported by the chip (block %d: %g mV)", d.PopName(i), key[0], x))
						break
					}
				}
			}
			pl.vrest[h], pl.vreset[h], pl.vth[h], pl.erevI[h] = want.vrest, want.vreset, want.vth, want.erevI
		}
	}
	return nil
}

// factorAt returns factor k of a driver-factor list (one for all, or one
// per presynaptic neuron), 1 when none.
func factorAt(xs []float64, k int) float64 {
	switch {
	case len(xs) == 0:
		return 1
	case len(xs) == 1:
		return xs[0]
	case k < len(xs):
		return xs[k]
	}
	return 1
}

func (pl *plan) popOf(g int) int {
	return sort.Search(len(pl.offset)-1, func(i int) bool { return pl.offset[i+1] > g })
}

// sourceName names global id g for errors.
func (pl *plan) sourceName(g int) string {
	p := pl.popOf(g)
	return fmt.Sprintf("neuron %d of %s", g-pl.offset[p], pl.user.PopName(p))
}

// connect configures drivers and synapses and builds the engine description.
func (pl *plan) connect() (*network.Description, error) {
	d := pl.user
	ed := &network.Description{Format: d.Format, Version: d.Version, Annotations: d.Annotations,
		Simulation: network.Simulation{Timestep: timestep, MinDelay: timestep, MaxDelay: synDelay, Seed: d.Simulation.Seed, Threads: d.Simulation.Threads}}
	for i, p := range d.Populations {
		q := network.Population{Label: p.Label, Size: p.Size, CellType: p.CellType, Parameters: p.Parameters, Annotations: p.Annotations}
		if pl.neuron[i] {
			q = network.Population{Label: p.Label, Size: p.Size, CellType: engineCell, Annotations: p.Annotations}
		}
		ed.Populations = append(ed.Populations, q)
	}
	if len(pl.opts.Drivers) > len(d.Projections) {
		return nil, fmt.Errorf("system.options.drivers: %d entries for %d projections", len(pl.opts.Drivers), len(d.Projections))
	}
	wr := rng.New(rng.Derive(d.Simulation.Seed, domWeights))
	shapeIdx := map[shape]int{}
	type conn struct {
		pre, post int64 // positions
		w         float64
		channel   string
	}
	type engineProj struct {
		conns []conn
	}
	for i := range d.Projections {
		pr := &d.Projections[i]
		name := d.ProjName(i)
		if pr.Connections == nil {
			return nil, fmt.Errorf("%s: the Spikey system takes explicit connection lists (pyNN.hardware.spikey draws the connectors' connections itself)", name)
		}
		for _, part := range pr.Post {
			if !pl.neuron[part.Population] {
				return nil, fmt.Errorf("%s: its targets include %s, a spike source; only IF_facets_hardware1 neurons receive synapses", name, d.PopName(part.Population))
			}
		}
		inh := pr.ReceptorType == "inhibitory"
		pl.quant = append(pl.quant, weightQuant{projection: i, label: name})
		q := &pl.quant[len(pl.quant)-1]
		var stp stpConf
		plasticProj := false
		switch pr.Synapse.Type {
		case tmSyn:
			get := func(n string, def float64) float64 {
				if v, ok := pr.Synapse.Parameters[n]; ok && (v.Kind == network.KindScalar || v.Len() == 1) {
					return v.At(0)
				}
				return def
			}
			stp = stpConf{on: true, u: get("U", 0.5), tauRec: get("tau_rec", 100), tauFa: get("tau_facil", 0)}
			if stp.tauRec != 0 && stp.tauFa != 0 {
				return nil, fmt.Errorf("%s: Tsodyks-Markram-STP on hardware does allow only facilitation OR depression (tau_rec = %g ms and tau_facil = %g ms: set one to 0)", name, stp.tauRec, stp.tauFa)
			}
			if stp.tauRec == 0 && stp.tauFa == 0 {
				stp.on = false
			}
		case stdpSyn:
			if err := checkSTDP(name, &pr.Synapse); err != nil {
				return nil, err
			}
			plasticProj = true
		}
		var df DriverFactors
		if i < len(pl.opts.Drivers) {
			df = pl.opts.Drivers[i]
		}
		for _, xs := range [][]float64{df.Drvifall, df.Drviout} {
			for _, x := range xs {
				if !(x > 0) || math.IsInf(x, 0) {
					return nil, fmt.Errorf("%s: driver factor %g must be positive", name, x)
				}
			}
		}
		preIDs, postIDs := pl.user.SelectionIDs(pr.Pre, pl.offset), pl.user.SelectionIDs(pr.Post, pl.offset)
		preFirst := map[int]int{} // global id -> position among the projection's presynaptic neurons, for per-neuron factors
		for k, g := range preIDs {
			if _, ok := preFirst[g]; !ok {
				preFirst[g] = k
			}
		}
		preV, postV := pr.Connections.Pre, pr.Connections.Post
		n := preV.Len()
		pres, _, _ := preV.Array.Int64s()
		posts, _, _ := postV.Array.Int64s()
		var wv *network.Value
		if v, ok := pr.Connections.Parameters["weight"]; ok {
			wv = &v
		} else if v, ok := pr.Synapse.Parameters["weight"]; ok {
			wv = &v
		}
		ws := fill(wv, n, 0, rng.Derive(d.Simulation.Seed, domParams, 1<<20+uint64(i)))
		lsb := lsbExcUncalib
		if inh {
			lsb = lsbInhUncalib
		}
		if on(pl.opts.CalibSynDrivers) {
			lsb = lsbExcCalib
			if inh {
				lsb = lsbInhCalib
			}
		}
		byChannel := map[string]*engineProj{}
		var order []string
		for k := 0; k < n; k++ {
			gpre, gpost := preIDs[pres[k]], postIDs[posts[k]]
			h := pl.hw[gpost]
			blk, col := h/neuronsPerBlock, h%neuronsPerBlock
			var row int
			var src string
			if s := pl.hw[gpre]; s >= 0 {
				row = driverOf(s, blk)
				src = fmt.Sprintf("hardware neuron %d", s)
			} else {
				row = externalDriver(pl.ext[gpre])
				src = fmt.Sprintf("external input %d", pl.ext[gpre])
			}
			key := [2]int{blk, row}
			du := pl.drivers[key]
			if du == nil {
				fk := preFirst[gpre]
				du = &driverUse{block: blk, row: row, source: src, inh: inh, proj: i, stp: stp, plastic: -1,
					fall: factorAt(df.Drvifall, fk), out: factorAt(df.Drviout, fk)}
				sh := shape{inh: inh, tauRise: tauRise0, tauFa: tauFall0 / du.fall}
				idx, ok := shapeIdx[sh]
				if !ok {
					if len(pl.shapes) >= maxShapes {
						return nil, fmt.Errorf("%s: the network asks for more than %d distinct synaptic time courses (sign and drvifall factor); the emulation carries at most %d", name, maxShapes, maxShapes)
					}
					idx = len(pl.shapes)
					shapeIdx[sh] = idx
					pl.shapes = append(pl.shapes, sh)
				}
				du.shape = idx
				if plasticProj {
					if len(pl.plastic) >= maxPlasticRows {
						return nil, fmt.Errorf("%s: more than %d synapse rows with STDP; the emulation carries at most %d", name, maxPlasticRows, maxPlasticRows)
					}
					du.plastic = len(pl.plastic)
					pl.plastic = append(pl.plastic, du)
				}
				pl.drivers[key] = du
			} else {
				switch {
				case du.source != src:
					return nil, fmt.Errorf("%s: %s and %s (%s) both need line driver %d of block %d: external inputs take drivers from the top (255 down), and neuron k feeds driver k; use fewer external inputs or another mappingOffset", name, src, du.source, pl.sourceName(gpre), row, blk)
				case du.inh != inh:
					return nil, fmt.Errorf("%s: %s drives line driver %d of block %d both excitatorily and inhibitorily; a line driver is one or the other", name, src, row, blk)
				case du.stp != stp:
					return nil, fmt.Errorf("%s: %s reaches block %d through one line driver (%d) with two short-term plasticity settings (%s and %s); STP is configured per driver", name, src, blk, row, d.ProjName(du.proj), name)
				case (du.plastic >= 0) != plasticProj:
					return nil, fmt.Errorf("%s: %s reaches block %d through line driver %d both with and without STDP (%s); the emulation enables STDP per synapse row", name, src, blk, row, d.ProjName(du.proj))
				}
			}
			skey := [3]int{blk, row, col}
			if _, dup := pl.weights[skey]; dup {
				return nil, fmt.Errorf("%s: %s connects to %s twice (or through two projections); the chip has one synapse per driver and neuron", name, src, pl.sourceName(gpost))
			}
			x := ws[k] / lsb
			if x > maxDigital*(1+1e-9) {
				// The real module clips (pyhal_config's discretizeWeight): so do we, and say so.
				if pl.clipped == nil {
					pl.clipped, pl.clippedMax = map[string]int{}, map[string]float64{}
				}
				if pl.clipped[name] == 0 {
					pl.warnings = append(pl.warnings, "") // filled in by clipWarnings, in projection order
					pl.clippedAt = append(pl.clippedAt, clipNote{name, len(pl.warnings) - 1, maxDigital * lsb, inh})
				}
				pl.clipped[name]++
				pl.clippedMax[name] = math.Max(pl.clippedMax[name], ws[k])
			}
			digital := int(math.Min(x+wr.Float64(), maxDigital+0.0001))
			pl.weights[skey] = digital
			q.add(ws[k], float64(digital)*lsb, lsb)
			amp := efficacy * lsb * du.out * pl.chip.driver[blk][row] * pl.chip.synapse(blk, row, col)
			if pl.cal != nil && on(pl.opts.CalibSynDrivers) {
				amp *= pl.cal.Drivers[blk*driversPerBlock+row]
			}
			if du.plastic >= 0 {
				pp := pl.pops[pl.popOf(gpost)]
				in := pp.plastic[du.plastic]
				if in == nil {
					sz := len(pp.hw)
					in = &plasticIn{w: make([]float64, sz), lsb: make([]float64, sz), thr: make([]float64, sz)}
					for j := range in.w {
						in.w[j] = math.NaN()
					}
					pp.plastic[du.plastic] = in
				}
				j := gpost - pl.offset[pl.popOf(gpost)]
				in.w[j], in.lsb[j] = float64(digital), amp
				in.thr[j] = stdpThreshold * pl.chip.corrThreshold(blk, row, col)
				ch := fmt.Sprintf("p%d", du.plastic)
				ep := byChannel[ch]
				if ep == nil {
					ep = &engineProj{}
					byChannel[ch] = ep
					order = append(order, ch)
				}
				ep.conns = append(ep.conns, conn{pres[k], posts[k], 1, ch})
				continue
			}
			if digital == 0 {
				continue
			}
			ch := fmt.Sprintf("c%d", du.shape)
			ep := byChannel[ch]
			if ep == nil {
				ep = &engineProj{}
				byChannel[ch] = ep
				order = append(order, ch)
			}
			w := float64(digital) * amp
			if stp.on {
				w /= stp.u // the first spike after rest transmits the full weight
			}
			ep.conns = append(ep.conns, conn{pres[k], posts[k], w, ch})
		}
		for _, ch := range order {
			ep := byChannel[ch]
			pre := make([]int64, len(ep.conns))
			post := make([]int64, len(ep.conns))
			w := make([]float64, len(ep.conns))
			for k, c := range ep.conns {
				pre[k], post[k], w[k] = c.pre, c.post, c.w
			}
			syn := network.Synapse{Type: staticSyn}
			params := map[string]network.Value{"weight": network.Floats(w), "delay": network.Scalar(synDelay)}
			if stp.on && ch[0] == 'c' {
				syn.Type = tmSyn
				tauRec := stp.tauRec
				if tauRec == 0 {
					tauRec = 1e-6 // pure facilitation: resources recover at once
				}
				syn.Parameters = map[string]network.Value{"U": network.Scalar(stp.u), "tau_rec": network.Scalar(tauRec), "tau_facil": network.Scalar(stp.tauFa)}
			}
			ed.Projections = append(ed.Projections, network.Projection{Label: fmt.Sprintf("%s/%s", name, ch), Pre: pr.Pre, Post: pr.Post, ReceptorType: ch,
				Synapse: syn, Connections: &network.Connections{Pre: network.Ints(pre), Post: network.Ints(post), Parameters: params}})
		}
	}
	for i, pp := range pl.pops {
		if pp == nil {
			continue
		}
		for m, in := range pp.plastic {
			if ed.Populations[i].InitialValues == nil {
				ed.Populations[i].InitialValues = map[string]network.Value{}
			}
			ed.Populations[i].InitialValues[fmt.Sprintf("w_p%d", m)] = network.Floats(in.w)
		}
	}
	return ed, nil
}

// checkSTDP refuses what the chip's STDP cannot do, with the PyNN module's words.
func checkSTDP(name string, s *network.Synapse) error {
	if s.TimingDependence == nil || s.TimingDependence.Type != pairRule {
		return fmt.Errorf("%s: Setting timing_dependence != SpikePairRule isn't supported by Spikey", name)
	}
	if s.WeightDependence == nil || s.WeightDependence.Type != additiveRule {
		t := "none"
		if s.WeightDependence != nil {
			t = s.WeightDependence.Type
		}
		return fmt.Errorf("%s: %s: weight dependence not available on Spikey (only AdditiveWeightDependence, as the look-up tables +1/-1)", name, t)
	}
	if v, ok := s.Parameters["dendritic_delay_fraction"]; ok && v.Kind == network.KindScalar && v.Scalar != 0 {
		return fmt.Errorf("%s: Setting a dendritic_delay_fraction != 0.0 isn't supported by Spikey", name)
	}
	return nil
}

// recordings passes spike recordings on and checks that the membrane of
// at most one neuron is recorded.
func (pl *plan) recordings(ed *network.Description) error {
	d := pl.user
	for ri, r := range d.Recordings {
		var vars []string
		for _, v := range r.Variables {
			if v != "v" {
				vars = append(vars, v)
				continue
			}
			for _, part := range r.Selection {
				if !pl.neuron[part.Population] {
					return fmt.Errorf("recordings[%d]: ERROR: Can only record membrane potential of neurons! (%s is a spike source)", ri, d.PopName(part.Population))
				}
				n := d.Populations[part.Population].Size
				idx := -1
				if part.Indices != nil {
					xs, _, _ := part.Indices.Array.Int64s()
					n = len(xs)
					if n == 1 {
						idx = int(xs[0])
					}
				} else if n == 1 {
					idx = 0
				}
				if n != 1 || (pl.vPop >= 0 && (pl.vPop != part.Population || pl.vIdx != idx)) {
					return fmt.Errorf("recordings[%d]: the chip records the membrane of one neuron at a time (this asks for another %d of %s); record_v replaces the neuron recorded before", ri, n, d.PopName(part.Population))
				}
				pl.vPop, pl.vIdx = part.Population, idx
			}
			vars = append(vars, v)
		}
		ed.Recordings = append(ed.Recordings, network.Recording{Selection: r.Selection, Variables: vars, SamplingInterval: timestep})
	}
	return nil
}

// action refuses what the chip cannot change between runs: Spikey runs a
// whole experiment per run, and the front end rebuilds the network for the
// next one.
func (pl *plan) action(a *network.Action) ([]network.Action, error) {
	if a.Run != nil {
		return []network.Action{*a}, nil
	}
	return nil, errors.New("the Spikey chip runs one configured experiment per build: change parameters in the network description and build again (pyNN.hardware.spikey does this for every run())")
}

// readout turns the membrane the engine computed into what the user gets:
// the output pin (its offset and gain), the ADC (noise, its gain and
// offset, 12-bit codes) and, unless the run is raw, the codes turned back
// into mV with the ADC's calibration and, with calibOutputPins, the pin's
// undone.
func (pl *plan) readout(segs []*engine.Segment) ([]*engine.Segment, error) {
	if pl.vPop < 0 {
		return segs, nil
	}
	h := pl.pops[pl.vPop].hw[pl.vIdx]
	pin := calib.PinOf(h)
	off, gain := pl.chip.pinOff[pin], pl.chip.pinGain[pin]
	noisy := on(pl.opts.TemporalNoise)
	r := rng.New(rng.Derive(pl.user.Simulation.Seed, domReadout))
	out := make([]*engine.Segment, len(segs))
	for i, s := range segs {
		c := *s
		c.Signals = make([]*engine.Signal, len(s.Signals))
		for k, sig := range s.Signals {
			c.Signals[k] = sig
			if sig.Variable != "v" {
				continue
			}
			cs := *sig
			cs.Data = make([]float64, len(sig.Data))
			for k, x := range sig.Data {
				y := x*gain + off
				if noisy {
					y += sdReadout * r.Normal()
				}
				y = pl.chip.adc(y)
				if !pl.raw {
					y = pl.cal.Volts(y)
					if on(pl.opts.CalibOutputPins) {
						y = pl.cal.Membrane(pin, y)
					}
				}
				cs.Data[k] = y
			}
			c.Signals[k] = &cs
		}
		out[i] = &c
	}
	return out, nil
}

// clipNote is where a projection's clipping warning goes among the warnings.
type clipNote struct {
	proj  string
	at    int
	maxUS float64
	inh   bool
}

// clipWarnings writes the warnings of the projections whose weights were
// clipped to the 4-bit synapses' 15 LSB.
func (pl *plan) clipWarnings() {
	for _, c := range pl.clippedAt {
		kind := map[bool]string{false: "excitatory", true: "inhibitory"}[c.inh]
		pl.warnings[c.at] = fmt.Sprintf("%s: %d weights above the chip's 15 LSB (at most %g uS for %s synapses; largest asked %g uS) were clipped to 15 LSB, as the hardware module does",
			c.proj, pl.clipped[c.proj], c.maxUS, kind, pl.clippedMax[c.proj])
	}
}
