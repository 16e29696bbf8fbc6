package brainscales1

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// System is the emulated BrainScaleS-1 wafer.
type System struct{}

func init() { system.Register(System{}) }

// Name is "brainscales1".
func (System) Name() string { return "brainscales1" }

// Catalog is what the wafer runs: the AdEx neuron and its special case
// IF_cond_exp, the two spike sources, static synapses.
func (System) Catalog() *network.Catalog { return userCatalog }

var userCatalog = func() *network.Catalog {
	c := &network.Catalog{Cells: map[string]*network.CellType{}, Synapses: map[string]*network.SynapseType{},
		TimingRules: map[string]*network.ComponentType{}, WeightRules: map[string]*network.ComponentType{},
		CurrentSources: map[string]*network.CurrentSourceType{}}
	for _, n := range []string{"IF_cond_exp", "EIF_cond_exp_isfa_ista", "SpikeSourceArray", "SpikeSourcePoisson"} {
		c.Cells[n] = network.Standard.Cells[n]
	}
	c.Synapses["StaticSynapse"] = network.Standard.Synapses["StaticSynapse"]
	// short-term plasticity, set per synapse driver (depression or facilitation)
	// (the drivers cannot be started from a given state)
	c.Synapses["TsodyksMarkramSynapse"] = network.Standard.Synapses["TsodyksMarkramSynapse"].WithoutState()
	return c
}()

func isSource(cellType string) bool {
	return cellType == "SpikeSourceArray" || cellType == "SpikeSourcePoisson"
}

// projConns are one projection's connections and what became of them.
type projConns struct {
	pre, post []int64 // positions in the pre and post selections
	src, tgt  []int32 // outputs
	w         []float64
	input     int // synaptic input: 0 excitatory, 1 inhibitory
	stp       int // STP configuration of its drivers: 0 none, else 1 + index in mapper.stps
	status    []uint8
	hicann    []int16
	row, col  []int16
	dig       []int8
	eff       []float64 // effective weight (uS) the engine runs
}

type conn struct {
	src, tgt int32
	input    int
	stp      int
}

// stpConfig is a synapse driver's short-term plasticity (Tsodyks-Markram
// parameters of the projections whose synapses it drives).
type stpConfig struct{ U, TauRec, TauFacil float64 }

// route is one output bus: a DNC merger of a HICANN.
type route struct{ hicann int16 }

// mapper is one mapping of a description onto the wafer.
type mapper struct {
	d       *network.Description
	opts    Options
	def     *defects
	w       *wafer
	pl      placed
	net     l1
	routes  []route
	routeOf map[int32]int32 // hicann*8+merger -> route
	projs   []projConns
	offs    []int64 // global connection id of each projection's first
	rowCfg  map[int]*[numRows]rowConfig
	// per HICANN and loss cause, for the statistics
	lost           [4]int64
	timing         map[string]float64
	stps           []stpConfig // the distinct STP configurations of the projections
	params         []neuronParams
	clipped        []string
	clippedWeights int
}

func (m *mapper) conn(g int64) conn {
	p := sort.Search(len(m.offs), func(i int) bool { return m.offs[i] > g }) - 1
	pc := &m.projs[p]
	k := g - m.offs[p]
	return conn{src: pc.src[k], tgt: pc.tgt[k], input: pc.input, stp: pc.stp}
}

func (m *mapper) locate(g int64) (*projConns, int64) {
	p := sort.Search(len(m.offs), func(i int) bool { return m.offs[i] > g }) - 1
	return &m.projs[p], g - m.offs[p]
}

func (m *mapper) lose(g int64, cause uint8) {
	pc, k := m.locate(g)
	pc.status[k] = cause
	m.lost[cause]++
}

func (m *mapper) realize(g int64, h, row, col int) {
	pc, k := m.locate(g)
	pc.status[k] = realized
	pc.hicann[k], pc.row[k], pc.col[k] = int16(h), int16(row), int16(col)
}

// Prepare maps d onto the wafer (marocco's pipeline) and returns the plan.
func (s System) Prepare(d *network.Description) (*system.Plan, error) {
	m, err := mapDescription(d)
	if err != nil {
		return nil, err
	}
	return m.plan()
}

// mapDescription runs the map & route.
func mapDescription(d *network.Description) (*mapper, error) {
	t0 := time.Now()
	var raw []byte
	if d.System != nil {
		raw = d.System.Options
	}
	opts, err := parseOptions(raw)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(d); err != nil {
		return nil, err
	}
	def, err := loadDefects(&opts)
	if err != nil {
		return nil, err
	}
	m := &mapper{d: d, opts: opts, def: def, w: &wafer{def: def, denmem: make([][]int32, numHICANNs), used: make([]bool, numHICANNs)},
		routeOf: map[int32]int32{}, rowCfg: map[int]*[numRows]rowConfig{}, timing: map[string]float64{}}
	m.pl.of = make([][]int32, len(d.Populations))
	neurons := 0
	for i, p := range d.Populations {
		m.pl.of[i] = make([]int32, p.Size)
		if !isSource(p.CellType) {
			neurons += p.Size
		}
	}
	// 1. the bio graph's capacity check
	if capacity := numHICANNs * numDenmems / opts.NeuronSize; neurons > capacity {
		return nil, fmt.Errorf("hardware capacity too low: the network has %d neurons; a wafer holds %d of size %d (384 HICANNs x 512 denmems)", neurons, capacity, opts.NeuronSize)
	}
	if err := m.expand(); err != nil {
		return nil, err
	}
	tExpand := time.Now()
	// 2. placement
	if err := m.placeNeurons(); err != nil {
		return nil, err
	}
	m.routeMergers()
	rates, targets := m.sourceRates()
	if err := m.placeInputs(rates, targets); err != nil {
		return nil, err
	}
	for k := range m.pl.pop {
		key := int32(m.pl.hicann[k])*numDNCMergers + int32(m.pl.merger[k])
		r, ok := m.routeOf[key]
		if !ok {
			r = int32(len(m.routes))
			m.routeOf[key] = r
			m.routes = append(m.routes, route{hicann: m.pl.hicann[k]})
		}
		m.pl.route[k] = r
	}
	if err := m.resolveOutputs(); err != nil {
		return nil, err
	}
	tPlace := time.Now()
	// 3. L1 routing
	byRoute := map[int32][]int{}
	for i := range m.projs {
		pc := &m.projs[i]
		for k := range pc.src {
			r := m.pl.route[pc.src[k]]
			byRoute[r] = append(byRoute[r], int(m.pl.hicann[pc.tgt[k]]))
		}
	}
	for r, ts := range byRoute {
		byRoute[r] = sortedUnique(ts)
	}
	if opts.L1Routing == "dijkstra" {
		m.routeDijkstra(byRoute)
	} else {
		m.routeL1(byRoute)
	}
	tL1 := time.Now()
	// 4. synapse routing per HICANN
	m.routeSynapses()
	tSyn := time.Now()
	var total int64
	for i := range m.projs {
		total += int64(len(m.projs[i].src))
	}
	lost := m.lost[lostL1] + m.lost[lostDriver] + m.lost[lostSynapse]
	if lost > 0 && !opts.ContinueDespiteSynapseLoss {
		//lint:ignore ST1005 marocco's own message, which users search for
		return nil, fmt.Errorf("Synapses lost but synapse loss is not accepted: %d of %d synapses lost (%d in L1 routing, %d for want of synapse drivers, %d for want of synapses); set marocco.continue_despite_synapse_loss = True to accept it", lost, total, m.lost[lostL1], m.lost[lostDriver], m.lost[lostSynapse])
	}
	// 5. parameter translation
	if err := m.translate(); err != nil {
		return nil, err
	}
	tTrafo := time.Now()
	m.timing = map[string]float64{
		"timeTotal": ms(tTrafo.Sub(t0)), "timeExpansion": ms(tExpand.Sub(t0)), "timePlacement": ms(tPlace.Sub(tExpand)),
		"timeRouting": ms(tSyn.Sub(tPlace)), "timeL1Routing": ms(tL1.Sub(tPlace)), "timeSynRouting": ms(tSyn.Sub(tL1)),
		"timeParameterTranslation": ms(tTrafo.Sub(tSyn)),
	}
	return m, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// checkDescription refuses what the wafer cannot do.
func checkDescription(d *network.Description) error {
	if err := network.Validate(d, userCatalog, network.Limits{}); err != nil {
		return err
	}
	if len(d.CurrentSources) > 0 {
		return errors.New("current_sources: the BrainScaleS wafer has no current sources for users (current stimuli and i_offset are not supported)")
	}
	for i, p := range d.Populations {
		if v, ok := p.Parameters["i_offset"]; ok && !(v.Kind == network.KindScalar && v.Scalar == 0) {
			bad := true
			if v.Kind == network.KindArray {
				bad = false
				for _, x := range v.Array.Float64s() {
					bad = bad || x != 0
				}
			}
			if bad {
				return fmt.Errorf("%s.parameters.i_offset: current parameters, i.e. i_offset, are not supported on the BrainScaleS wafer", d.PopName(i))
			}
		}
		for name, v := range p.Parameters {
			if v.Kind == network.KindRandom {
				return fmt.Errorf("%s.parameters.%s: give drawn values as an array (the front end draws them)", d.PopName(i), name)
			}
		}
	}
	for i, pr := range d.Projections {
		for name, v := range pr.Synapse.Parameters {
			if pr.Synapse.Type == "TsodyksMarkramSynapse" && name != "weight" && name != "delay" && v.Kind != network.KindScalar {
				return fmt.Errorf("%s.synapse.parameters.%s: the wafer's short-term plasticity is set per synapse driver; give one value per projection", d.ProjName(i), name)
			}
		}
		if c := pr.Connections; c != nil && pr.Synapse.Type == "TsodyksMarkramSynapse" {
			for name := range c.Parameters {
				if name != "weight" && name != "delay" {
					return fmt.Errorf("%s.connections.parameters.%s: the wafer's short-term plasticity is set per synapse driver; give one value per projection", d.ProjName(i), name)
				}
			}
		}
		if pr.ReceptorType != "" && pr.ReceptorType != "excitatory" && pr.ReceptorType != "inhibitory" {
			return fmt.Errorf("%s.receptor_type: %q; the wafer's neurons have an excitatory and an inhibitory synaptic input", d.ProjName(i), pr.ReceptorType)
		}
		for _, part := range pr.Post {
			if isSource(d.Populations[part.Population].CellType) {
				return fmt.Errorf("%s: its post-synaptic population %s is a spike source", d.ProjName(i), d.PopName(part.Population))
			}
		}
	}
	return nil
}

// expand draws every projection's connections as the engine would (same
// seeds, same order).
func (m *mapper) expand() error {
	d := m.d
	m.projs = make([]projConns, len(d.Projections))
	m.offs = make([]int64, len(d.Projections)+1)
	if len(d.Projections) == 0 {
		return nil
	}
	// The wafer takes the sign from the target, so every projection is
	// drawn onto the default receptor.
	drawn, err := system.DrawConnections(d, 0.1, func(p network.Population) string {
		if isSource(p.CellType) {
			return "SpikeSourceArray"
		}
		return "IF_curr_exp"
	}, func(string) string { return "" }, "weight")
	if err != nil {
		return err
	}
	for i := range d.Projections {
		pre, post, ws := drawn[i].Pre, drawn[i].Post, drawn[i].Values["weight"]
		n := len(pre)
		pc := &m.projs[i]
		pc.pre, pc.post = make([]int64, n), make([]int64, n)
		for k := range pre {
			pc.pre[k], pc.post[k] = int64(pre[k]), int64(post[k])
			if ws[k] < 0 {
				return fmt.Errorf("%s: weight %g is negative; on the wafer the sign comes from the target (excitatory or inhibitory), weights are magnitudes", d.ProjName(i), ws[k])
			}
		}
		pc.w = ws
		if d.Projections[i].ReceptorType == "inhibitory" {
			pc.input = 1
		}
		if syn := d.Projections[i].Synapse; syn.Type == "TsodyksMarkramSynapse" {
			var cfg stpConfig
			for _, par := range network.Standard.Synapses[syn.Type].Params {
				v := par.Default
				if x, ok := syn.Parameters[par.Name]; ok {
					v = x.Scalar
				}
				switch par.Name {
				case "U":
					cfg.U = v
				case "tau_rec":
					cfg.TauRec = v
				case "tau_facil":
					cfg.TauFacil = v
				}
			}
			pc.stp = 1 + slices.Index(m.stps, cfg)
			if pc.stp == 0 {
				m.stps = append(m.stps, cfg)
				pc.stp = len(m.stps)
			}
		}
		pc.src, pc.tgt = make([]int32, n), make([]int32, n)
		pc.status = make([]uint8, n)
		pc.hicann, pc.row, pc.col = make([]int16, n), make([]int16, n), make([]int16, n)
		pc.dig = make([]int8, n)
		m.offs[i+1] = m.offs[i] + int64(n)
	}
	return nil
}

// selection returns a selection's neurons as (population, index) pairs.
func (m *mapper) selection(sel network.Selection) [][2]int32 {
	var out [][2]int32
	for _, part := range sel {
		if part.Indices == nil {
			for j := 0; j < m.d.Populations[part.Population].Size; j++ {
				out = append(out, [2]int32{int32(part.Population), int32(j)})
			}
			continue
		}
		xs, _, _ := part.Indices.Array.Int64s()
		for _, x := range xs {
			out = append(out, [2]int32{int32(part.Population), int32(x)})
		}
	}
	return out
}

// resolveOutputs turns selection positions into placed outputs.
func (m *mapper) resolveOutputs() error {
	for i := range m.projs {
		pc := &m.projs[i]
		pre, post := m.selection(m.d.Projections[i].Pre), m.selection(m.d.Projections[i].Post)
		for k := range pc.pre {
			a, b := pre[pc.pre[k]], post[pc.post[k]]
			pc.src[k] = m.pl.of[a[0]][a[1]]
			pc.tgt[k] = m.pl.of[b[0]][b[1]]
		}
	}
	return nil
}

// sourceRates estimates each spike source's rate (biological Hz), as
// marocco's input placement does, and lists the HICANNs its targets are on.
func (m *mapper) sourceRates() ([][]float64, [][]int) {
	d := m.d
	rates := make([][]float64, len(d.Populations))
	targets := make([][]int, len(d.Populations))
	for p, pop := range d.Populations {
		if !isSource(pop.CellType) {
			continue
		}
		rates[p] = make([]float64, pop.Size)
		for i := range rates[p] {
			switch pop.CellType {
			case "SpikeSourcePoisson":
				rates[p][i] = 1
				if v, ok := pop.Parameters["rate"]; ok {
					rates[p][i] = v.At(i)
				}
			default:
				if v, ok := pop.Parameters["spike_times"]; ok {
					ts := v.Seq(i)
					if len(ts) > 0 {
						span := m.opts.DurationMs
						if last := ts[len(ts)-1]; span < last {
							span = last
						}
						if span <= 0 {
							span = 1
						}
						rates[p][i] = float64(len(ts)) / span * 1e3
					}
				}
			}
		}
	}
	for i := range m.projs {
		for _, part := range m.d.Projections[i].Pre {
			if !isSource(d.Populations[part.Population].CellType) {
				continue
			}
			seen := map[int]bool{}
			post := m.selection(m.d.Projections[i].Post)
			for _, b := range post {
				k := m.pl.of[b[0]][b[1]]
				if h := int(m.pl.hicann[k]); !seen[h] {
					seen[h] = true
					targets[part.Population] = append(targets[part.Population], h)
				}
			}
		}
	}
	return rates, targets
}

// routeSynapses runs synapse-driver assignment and synapse assignment on
// every HICANN routes arrive at.
func (m *mapper) routeSynapses() {
	// connections by target HICANN
	var byH [numHICANNs][]int64
	for i := range m.projs {
		pc := &m.projs[i]
		for k := range pc.src {
			h := m.pl.hicann[pc.tgt[k]]
			byH[h] = append(byH[h], m.offs[i]+int64(k))
		}
	}
	var counts [denmemsPerRow][2][4]int32
	var touched []int16
	for h := 0; h < numHICANNs; h++ {
		if len(byH[h]) == 0 {
			continue
		}
		arr := map[int32]arrival{}
		for _, a := range m.net.at[h] {
			arr[a.route] = a
		}
		// a route's synapses of each STP configuration need drivers of
		// their own: STP is set per driver
		type key struct {
			r   int32
			stp int
		}
		ins := map[key]*inRoute{}
		var order []key
		for _, g := range byH[h] {
			c := m.conn(g)
			r := m.pl.route[c.src]
			a, ok := arr[r]
			if !ok {
				m.lose(g, lostL1)
				continue
			}
			k := key{r, c.stp}
			in := ins[k]
			if in == nil {
				in = &inRoute{arr: a}
				ins[k] = in
				order = append(order, k)
			}
			in.conns = append(in.conns, g)
		}
		if len(order) == 0 {
			continue
		}
		sort.Slice(order, func(i, j int) bool {
			if order[i].r != order[j].r {
				return order[i].r < order[j].r
			}
			return order[i].stp < order[j].stp
		})
		var sides [2][]*inRoute
		for _, k := range order {
			in := ins[k]
			m.requirements(h, in, &counts, &touched)
			sides[in.arr.side] = append(sides[in.arr.side], in)
		}
		cfg := new([numRows]rowConfig)
		m.rowCfg[h] = cfg
		for s := 0; s < 2; s++ {
			m.fieres(h, s, sides[s])
			for _, in := range sides[s] {
				m.assignSynapses(h, in, cfg)
			}
		}
	}
}
