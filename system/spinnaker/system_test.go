package spinnaker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

func decode(t testing.TB, js string) *network.Description {
	t.Helper()
	d, err := network.DecodeJSON([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func prepare(t testing.TB, js string) (*system.Plan, error) {
	t.Helper()
	return System{}.Prepare(decode(t, js))
}

// desc writes a description: populations as (label, size, type), then
// projections and the system options.
func desc(dt float64, options string, pops []string, projs []string) string {
	opt := ""
	if options != "" {
		opt = fmt.Sprintf(`,"system":{"name":"spinnaker","options":%s}`, options)
	}
	return fmt.Sprintf(`{"format":"nmp-network","version":1,"simulation":{"timestep":%g,"seed":3}%s,
	 "populations":[%s],"projections":[%s]}`, dt, opt, strings.Join(pops, ","), strings.Join(projs, ","))
}

func pop(label string, size int, ct string) string {
	return fmt.Sprintf(`{"label":%q,"size":%d,"cell_type":%q}`, label, size, ct)
}

func proj(pre, post int, w, d float64, conn string) string {
	return fmt.Sprintf(`{"pre":[{"population":%d}],"post":[{"population":%d}],"synapse":{"type":"StaticSynapse","parameters":{"weight":%g,"delay":%g}},"connector":%s}`,
		pre, post, w, d, conn)
}

func info(t *testing.T, p *system.Plan) map[string]any {
	t.Helper()
	b, err := json.Marshal(p.Info)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func coresOf(t *testing.T, in map[string]any, label string) [][]float64 {
	for _, p := range in["populations"].([]any) {
		m := p.(map[string]any)
		if strings.Contains(m["label"].(string), label) {
			var out [][]float64
			for _, c := range m["cores"].([]any) {
				var row []float64
				for _, x := range c.([]any) {
					row = append(row, x.(float64))
				}
				out = append(out, row)
			}
			return out
		}
	}
	t.Fatalf("no population %s in %v", label, in["populations"])
	return nil
}

// Partitioning: slices of at most the limit, a population's slices
// together, the limit from the options by type or by population.
func TestPartition(t *testing.T) {
	for _, c := range []struct {
		options      string
		cores, atoms int
	}{
		{``, 4, 256}, // 1000 / 256
		{`{"max_atoms_per_core":{"IF_curr_exp":200}}`, 5, 200},
		{`{"populations":{"0":{"max_atoms_per_core":200}}}`, 5, 200},
		{`{"populations":{"0":{"max_atoms_per_core":1}}}`, 1000, 1},
	} {
		p, err := prepare(t, desc(1, c.options, []string{pop("big", 1000, "IF_curr_exp")}, nil))
		if err != nil {
			t.Fatalf("%s: %v", c.options, err)
		}
		cs := coresOf(t, info(t, p), "big")
		if len(cs) != c.cores {
			t.Fatalf("%s: %d cores, want %d", c.options, len(cs), c.cores)
		}
		lo := 0.0
		for _, x := range cs {
			if x[3] != lo || x[4]-x[3] > float64(c.atoms) {
				t.Fatalf("%s: slice %v after %g", c.options, x, lo)
			}
			lo = x[4]
		}
		if lo != 1000 {
			t.Fatalf("%s: slices end at %g", c.options, lo)
		}
		if c.cores == 5 {
			// Together: on one chip (17 application cores).
			for _, x := range cs {
				if x[0] != cs[0][0] || x[1] != cs[0][1] {
					t.Fatalf("the slices are spread: %v", cs)
				}
			}
		}
	}
	if _, err := prepare(t, desc(1, `{"max_atoms_per_core":{"IF_curr_exp":300}}`, []string{pop("big", 10, "IF_curr_exp")}, nil)); err == nil || !strings.Contains(err.Error(), "256") {
		t.Errorf("301 atoms per core: %v", err)
	}
}

// The machine: boards and triads as spalloc allocates them, the large
// machine giving a job the boards it needs, a full machine refused with
// the population named.
func TestMachines(t *testing.T) {
	for _, c := range []struct {
		boards, w, h, chips int
	}{{1, 8, 8, 48}, {2, 16, 16, 144}, {3, 16, 16, 144}, {4, 28, 16, 288}, {10, 28, 28, 576}} {
		m, err := NewMachine(c.boards)
		if err != nil {
			t.Fatal(err)
		}
		if m.Width != c.w || m.Height != c.h || len(m.Chips()) != c.chips {
			t.Errorf("%d boards: %dx%d, %d chips; want %dx%d, %d", c.boards, m.Width, m.Height, len(m.Chips()), c.w, c.h, c.chips)
		}
		eth := 0
		for _, ch := range m.Chips() {
			if ch.Ethernet {
				eth++
				if ch.X%4 != 0 || (ch.X+ch.Y)%12 != 0 {
					t.Errorf("Ethernet chip at (%d, %d)", ch.X, ch.Y)
				}
			}
		}
		if eth != len(m.Boards) {
			t.Errorf("%d boards: %d Ethernet chips", c.boards, eth)
		}
	}
	b, _ := NewBoard(5)
	if b.AppCores() != 40*17+8*16 {
		t.Errorf("48-chip board: %d application cores", b.AppCores())
	}
	b3, _ := NewBoard(3)
	if len(b3.Chips()) != 4 || !b3.Wrap || b3.AppCores() != 68 {
		t.Errorf("4-chip board: %d chips, wrap %v, %d cores", len(b3.Chips()), b3.Wrap, b3.AppCores())
	}
	// 20,000 neurons of 256 per core need 79 cores: one board; 300,000
	// need 1172 cores: two boards.
	for _, c := range []struct{ n, boards int }{{20000, 1}, {300000, 2}} {
		p, err := prepare(t, desc(1, "", []string{pop("p", c.n, "IF_curr_exp")}, nil))
		if err != nil {
			t.Fatal(err)
		}
		// Two boards come as a triad of three.
		if got := info(t, p)["machine"].(map[string]any)["boards"].(float64); int(got) != map[int]int{1: 1, 2: 3}[c.boards] {
			t.Errorf("%d neurons: a machine of %v boards", c.n, got)
		}
	}
	_, err := prepare(t, desc(1, `{"version":3}`, []string{pop("too many", 100*256, "IF_curr_exp")}, nil))
	if err == nil || !strings.Contains(err.Error(), "too many") || !strings.Contains(err.Error(), "68 application cores") {
		t.Errorf("a full 4-chip board: %v", err)
	}
}

// Faults: dead chips get nothing, dead cores are skipped, dead links are
// routed around.
func TestFaults(t *testing.T) {
	mf := `{"version":5,"dead_chips":[[0,0]],"dead_cores":[[1,0,1],[1,0,2]],"dead_links":[[1,0,1],[1,0,2]]}`
	opts := fmt.Sprintf(`{"machine":%s,"populations":{"0":{"max_atoms_per_core":10},"1":{"max_atoms_per_core":10}}}`, mf)
	p, err := prepare(t, desc(1, opts, []string{pop("a", 170, "IF_curr_exp"), pop("b", 170, "IF_curr_exp")},
		[]string{proj(0, 1, 0.5, 1, `{"type":"AllToAllConnector"}`)}))
	if err != nil {
		t.Fatal(err)
	}
	in := info(t, p)
	for _, x := range append(coresOf(t, in, `"a"`), coresOf(t, in, `"b"`)...) {
		if x[0] == 0 && x[1] == 0 {
			t.Fatalf("a slice on the dead chip: %v", x)
		}
		if x[0] == 1 && x[1] == 0 && (x[2] == 1 || x[2] == 2) {
			t.Fatalf("a slice on a dead core: %v", x)
		}
	}
	for _, l := range in["links"].([]any) {
		x := l.([]any)
		if x[0].(float64) == 1 && x[1].(float64) == 0 && (x[2].(float64) == 1 || x[2].(float64) == 2) {
			t.Fatalf("a route over a dead link: %v", x)
		}
	}
	for _, bad := range []string{`{"dead_chips":[[9,9]]}`, `{"dead_links":[[1,1,6]]}`, `{"dead_cores":[[1,1,0]]}`, `{"boards":2,"version":3}`, `{"dead_chip":[]}`} {
		mfile, err := ParseMachineFile([]byte(bad))
		if err == nil {
			_, err = mfile.Build(1)
		}
		if err == nil || !strings.Contains(err.Error(), "machine description") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// Routing: every slice reaches the cores of its targets, compression
// shrinks tables without changing where any key goes, and a table that
// still does not fit is PACMAN's error.
func TestRouting(t *testing.T) {
	pops := []string{pop("src", 400, "SpikeSourcePoisson")}
	var projs []string
	for i := 1; i <= 12; i++ {
		pops = append(pops, pop(fmt.Sprintf("t%d", i), 50, "IF_curr_exp"))
		projs = append(projs, proj(0, i, 0.1, 1, `{"type":"FixedProbabilityConnector","p":0.1}`))
	}
	opts := `{"populations":{"0":{"max_atoms_per_core":4}}}`
	p, err := prepare(t, desc(1, opts, pops, projs))
	if err != nil {
		t.Fatal(err)
	}
	pl := lastPlan
	// Every key reaches exactly the cores of its slice's targets.
	for si := range pl.mp.slices {
		s := &pl.mp.slices[si]
		want := map[[3]int]bool{}
		for _, ti := range s.targets {
			tt := &pl.mp.slices[ti]
			want[[3]int{tt.chip.X, tt.chip.Y, tt.core}] = true
		}
		got := deliver(t, pl.mp, s.chip, s.key)
		if len(got) != len(want) {
			t.Fatalf("%s: delivered to %v, want %v", pl.mp.sliceName(si), got, want)
		}
		for k := range got {
			if !want[k] {
				t.Fatalf("%s: delivered to %v, want %v", pl.mp.sliceName(si), got, want)
			}
		}
	}
	r := info(t, p)["routing"].(map[string]any)
	if r["entries"].(float64) >= r["entries_before_compression"].(float64) {
		t.Errorf("no compression: %v", r)
	}
	// The same network on routers of 4 entries does not fit.
	_, err = prepare(t, desc(1, `{"machine":{"router_entries":4},"populations":{"0":{"max_atoms_per_core":4}}}`, pops, projs))
	if err == nil || !strings.Contains(err.Error(), "after compression will still not fit") {
		t.Fatalf("tiny routers: %v", err)
	}
	t.Log(err)
}

// deliver follows a packet with key from chip c through the routing
// tables (default routing where no entry matches) and returns the cores it
// reaches.
func deliver(t *testing.T, mp *mapping, c *Chip, key uint32) map[[3]int]bool {
	out := map[[3]int]bool{}
	type hop struct {
		c    *Chip
		from int
	}
	queue := []hop{{c, -1}}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 10000 {
			t.Fatal("a routing loop")
		}
		h := queue[0]
		queue = queue[1:]
		var route uint32
		found := false
		for _, e := range mp.tables[h.c] {
			if key&e.mask == e.key {
				route, found = e.route, true
				break
			}
		}
		if !found {
			if h.from < 0 {
				continue // nothing leaves the source without an entry
			}
			route = 1 << uint(h.from) // default: straight on
		}
		for d := 0; d < linksPerChip; d++ {
			if route&(1<<uint(d)) != 0 {
				n := mp.m.Neighbour(h.c, d)
				if n == nil {
					t.Fatalf("route over a missing link from (%d,%d)", h.c.X, h.c.Y)
				}
				queue = append(queue, hop{n, d})
			}
		}
		for p := 0; p < coresPerChip; p++ {
			if route&routeCore(p) != 0 {
				out[[3]int{h.c.X, h.c.Y, p}] = true
			}
		}
	}
	return out
}

// Errors a user meets name the projection or population and the limit.
func TestErrors(t *testing.T) {
	src := pop("in", 1, "SpikeSourcePoisson")
	cell := pop("cells", 1, "IF_curr_exp")
	for _, c := range []struct {
		desc string
		want []string
	}{
		{desc(1, "", []string{src, cell}, []string{proj(0, 1, 1, 145, `{"type":"OneToOneConnector"}`)}), []string{"projections[0]", "145 time steps", "1 to 144"}},
		{desc(0.1, "", []string{src, cell}, []string{proj(0, 1, 1, 14.5, `{"type":"OneToOneConnector"}`)}), []string{"145 time steps", "14.4 ms"}},
		{desc(1, "", []string{src, pop("hh", 1, "HH_cond_exp")}, nil), []string{"populations[1]", "HH_cond_exp", "not available on SpiNNaker"}},
		{desc(1, `{"version":7}`, []string{cell}, nil), []string{"system.options.version"}},
		{desc(1, `{"nonsense":1}`, []string{cell}, nil), []string{"system.options", "nonsense"}},
	} {
		_, err := prepare(t, c.desc)
		if err == nil {
			t.Errorf("no error for %s", c.want[0])
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	}
	// Delays up to 144 steps run, beyond 16 through a delay extension.
	p, err := prepare(t, desc(1, "", []string{src, cell}, []string{proj(0, 1, 1, 144, `{"type":"OneToOneConnector"}`)}))
	if err != nil {
		t.Fatal(err)
	}
	if len(coresOf(t, info(t, p), "delay extension")) != 1 {
		t.Error("no delay extension core for a delay of 144 steps")
	}
}

// The weights: the guidebook's example (0.1 µS from Poisson sources of up
// to 1000 Hz, one to one) scales to shift 0, and the engine holds the
// words' values.
func TestWeightScaling(t *testing.T) {
	d := desc(1, "", []string{pop("in", 2, "SpikeSourcePoisson"), pop("cells", 2, "IF_cond_exp")},
		[]string{proj(0, 1, 0.1, 2, `{"type":"OneToOneConnector"}`)})
	d = strings.Replace(d, `"cell_type":"SpikeSourcePoisson"}`, `"cell_type":"SpikeSourcePoisson","parameters":{"rate":1000}}`, 1)
	p, err := prepare(t, d)
	if err != nil {
		t.Fatal(err)
	}
	// IF_cond_exp's weights count 32 times (the conductance input type's
	// scale) in the largest weight, 3.2, but not in the total a tick may
	// bring, 5 spikes × 0.1 (today's sPyNNaker's _Stats): shift 2, word
	// 0.1 × 32 × 2^13 = 26214.4 → 26214. (Before following that, the total
	// was scaled too: 16, shift 5, word 3277.)
	if sh := lastPlan.shifts[1]; sh != [nSynTypes]uint32{2, 0, 0} {
		t.Errorf("shifts %v, want [2 0 0]", sh)
	}
	w := p.Description.Projections[0].Connections.Parameters["weight"].Array.Float64s()
	if want := 26214.0 / (1 << 13) / 32; w[0] != want {
		t.Errorf("weight %v, want %v (word 26214)", w[0], want)
	}
	// The same projection onto IF_curr_exp (scale 1): the total, 0.5,
	// decides; shift 0.
	d = strings.Replace(d, `"IF_cond_exp"`, `"IF_curr_exp"`, 1)
	if _, err = prepare(t, d); err != nil {
		t.Fatal(err)
	}
	if sh := lastPlan.shifts[1]; sh != [nSynTypes]uint32{0, 0, 0} {
		t.Errorf("IF_curr_exp shifts %v, want [0 0 0]", sh)
	}
	// Larger weights, many inputs: a larger shift, weights to within one LSB.
	d = desc(1, "", []string{pop("in", 100, "SpikeSourcePoisson"), pop("cells", 10, "IF_curr_exp")},
		[]string{proj(0, 1, 2.3, 2, `{"type":"AllToAllConnector"}`)})
	if p, err = prepare(t, d); err != nil {
		t.Fatal(err)
	}
	sh := lastPlan.shifts[1][0]
	if sh < 8 || sh > 15 {
		t.Errorf("100 inputs of 2.3 nA: shift %d", sh)
	}
	lsb := math.Ldexp(1, int(sh)-15)
	for _, x := range p.Description.Projections[0].Connections.Parameters["weight"].Array.Float64s() {
		if math.Abs(x-2.3) > lsb/2 || math.Mod(x, lsb) != 0 {
			t.Fatalf("weight %v with LSB %v", x, lsb)
		}
	}
	if q, v := quantise(1e9, 0); q != 0xFFFF || v != 0xFFFF/32768.0 {
		t.Errorf("saturation: %d %v", q, v)
	}
}

// A whole run: the guidebook's first example on the machine gives output
// rates that rise with the input rate and saturate at the rate the
// refractory period allows (1000 / (2 + 1) Hz with a 1 ms step).
func TestGuidebookExample(t *testing.T) {
	const n = 20
	rates := make([]string, n)
	for i := range rates {
		rates[i] = fmt.Sprint(1000.0 * float64(i) / (n - 1))
	}
	d := fmt.Sprintf(`{"format":"nmp-network","version":1,"simulation":{"timestep":1,"seed":7},"system":{"name":"spinnaker"},
	 "populations":[{"size":%d,"cell_type":"IF_cond_exp","parameters":{"cm":0.25,"tau_m":10,"tau_refrac":2,"tau_syn_E":2.5,"tau_syn_I":2.5,"v_reset":-70,"v_rest":-65,"v_thresh":-55}},
	  {"size":%d,"cell_type":"SpikeSourcePoisson","parameters":{"rate":[%s]}}],
	 "projections":[{"pre":[{"population":1}],"post":[{"population":0}],"synapse":{"type":"StaticSynapse","parameters":{"weight":0.1,"delay":2}},"connector":{"type":"OneToOneConnector"}}],
	 "recordings":[{"selection":[{"population":0}],"variables":["spikes"]}],"schedule":[{"run":5000}]}`, n, n, strings.Join(rates, ","))
	dd := decode(t, d)
	r, err := system.NewRun(context.Background(), System{}, dd, system.RunOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs, err := r.Data(false)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, n)
	for k, id := range segs[0].Spikes[0].IDs {
		counts[id]++
		if tt := segs[0].Spikes[0].Times[k]; tt != math.Round(tt) {
			t.Fatalf("a spike at %v, not on a tick", tt)
		}
	}
	t.Logf("spike counts in 5 s: %v", counts)
	out := make([]float64, n)
	for i, c := range counts {
		out[i] = float64(c) / 5
	}
	if out[0] != 0 {
		t.Errorf("output without input: %v Hz", out[0])
	}
	for i := 1; i < n; i++ {
		if out[i] < out[i-1]-8 {
			t.Errorf("the rate falls from %v to %v Hz at input %s Hz", out[i-1], out[i], rates[i])
		}
	}
	if top := out[n-1]; top > 1000.0/3 || top < 300 {
		t.Errorf("saturation at %v Hz, want just under %v", top, 1000.0/3)
	}
	if out[n/4] < 100 || out[n/4] > 300 {
		t.Errorf("a quarter of the way: %v Hz", out[n/4])
	}
	b, err := json.Marshal(r.Provenance())
	var prov struct {
		Extra struct{ Realtime map[string]any }
	}
	if err != nil || json.Unmarshal(b, &prov) != nil {
		t.Fatal(err)
	}
	if rt := prov.Extra.Realtime; rt == nil || rt["ticks"].(float64) != 5000 || rt["Times_the_timer_tic_over_ran"].(float64) != 0 {
		t.Errorf("real-time provenance: %v", rt)
	}
}

// Inhibition inhibits: current-based cells with PyNN's negative inhibitory
// weights and conductance-based ones with positive weights fire less with
// their inhibitory input than without it.
func TestInhibition(t *testing.T) {
	for _, c := range []struct {
		ct string
		w  float64
	}{{"IF_curr_exp", -2}, {"IF_cond_exp", 0.05}} {
		counts := map[bool]int{}
		for _, inhib := range []bool{false, true} {
			w := 0.0
			if inhib {
				w = c.w
			}
			d := fmt.Sprintf(`{"format":"nmp-network","version":1,"simulation":{"timestep":1,"seed":3},"system":{"name":"spinnaker"},
			 "populations":[{"size":10,"cell_type":%q,"parameters":{"i_offset":1.0}},{"size":10,"cell_type":"SpikeSourcePoisson","parameters":{"rate":200}}],
			 "projections":[{"pre":[{"population":1}],"post":[{"population":0}],"receptor_type":"inhibitory","synapse":{"type":"StaticSynapse","parameters":{"weight":%g,"delay":1}},"connector":{"type":"AllToAllConnector"}}],
			 "recordings":[{"selection":[{"population":0}],"variables":["spikes"]}],"schedule":[{"run":1000}]}`, c.ct, w)
			r, err := system.NewRun(context.Background(), System{}, decode(t, d), system.RunOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.RunSchedule(context.Background()); err != nil {
				t.Fatal(err)
			}
			segs, _ := r.Data(false)
			counts[inhib] = len(segs[0].Spikes[0].IDs)
		}
		t.Logf("%s: %d spikes alone, %d inhibited", c.ct, counts[false], counts[true])
		if counts[false] < 100 || counts[true] > counts[false]/3 {
			t.Errorf("%s: %d spikes alone, %d inhibited", c.ct, counts[false], counts[true])
		}
	}
}

// The real-time cost model: 256 neurons on a core at 0.1 ms ticks overrun
// a machine running in real time (20,000 cycles a tick, 51,200 for the
// neurons alone) and are on time with sPyNNaker's default time scale
// factor of 10; the provenance says so with sPyNNaker's warning.
func TestOverruns(t *testing.T) {
	for _, c := range []struct {
		tsf      string
		overruns bool
	}{{`{"time_scale_factor":1}`, true}, {`{}`, false}} {
		d := desc(0.1, c.tsf, []string{pop("cells", 256, "IF_curr_exp")}, nil)
		d = strings.Replace(d, `"populations":[`, `"schedule":[{"run":10}],"populations":[`, 1)
		r, err := system.NewRun(context.Background(), System{}, decode(t, d), system.RunOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.RunSchedule(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(r.Plan().Info["realtime"])
		var rt map[string]any
		if err := json.Unmarshal(b, &rt); err != nil {
			t.Fatal(err)
		}
		n := rt["Times_the_timer_tic_over_ran"].(float64)
		warned := strings.Contains(string(b), "The timer tick overran")
		if (n > 0) != c.overruns || warned != c.overruns || rt["ticks"].(float64) != 100 {
			t.Errorf("%s: %v overruns, warned %v: %s", c.tsf, n, warned, b)
		}
	}
}

// IF_curr_dual_exp's second excitatory synapse is an exponential synapse
// like the first: input through "excitatory2" with tau_syn_E2 = tau_syn_E
// gives, bit for bit, IF_curr_exp's membrane with the same input through
// "excitatory".
func TestDualExp(t *testing.T) {
	d := `{"format":"nmp-network","version":1,"simulation":{"timestep":1,"seed":3},"system":{"name":"spinnaker"},
	 "populations":[{"size":5,"cell_type":"SpikeSourcePoisson","parameters":{"rate":80}},
	  {"size":3,"cell_type":"IF_curr_exp","parameters":{"tau_syn_E":3}},
	  {"size":3,"cell_type":"IF_curr_dual_exp","parameters":{"tau_syn_E":7,"tau_syn_E2":3}}],
	 "projections":[{"pre":[{"population":0}],"post":[{"population":1}],"receptor_type":"excitatory","synapse":{"type":"StaticSynapse","parameters":{"weight":1.3,"delay":1}},"connector":{"type":"AllToAllConnector"}},
	  {"pre":[{"population":0}],"post":[{"population":2}],"receptor_type":"excitatory2","synapse":{"type":"StaticSynapse","parameters":{"weight":1.3,"delay":1}},"connector":{"type":"AllToAllConnector"}}],
	 "recordings":[{"selection":[{"population":1},{"population":2}],"variables":["v","spikes"]}],"schedule":[{"run":500}]}`
	r, err := system.NewRun(context.Background(), System{}, decode(t, d), system.RunOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs, _ := r.Data(false)
	var vs [][]float64
	for _, sig := range segs[0].Signals {
		if sig.Variable == "v" {
			vs = append(vs, sig.Data)
		}
	}
	if len(vs) != 2 || len(vs[0]) != len(vs[1]) || len(segs[0].Spikes[1].IDs) == 0 {
		t.Fatalf("signals %d, spikes %d", len(vs), len(segs[0].Spikes[1].IDs))
	}
	for k := range vs[0] {
		if vs[0][k] != vs[1][k] {
			t.Fatalf("sample %d: IF_curr_exp %v, IF_curr_dual_exp %v", k, vs[0][k], vs[1][k])
		}
	}
}

// The real-time counts go on over runs and resets: 100 ticks, a reset, 50
// and 1 more are 151 ticks; and a run of one tick is a run (neuron
// parameters may not change after it).
func TestTicksOverRuns(t *testing.T) {
	d := desc(1, "", []string{pop("cells", 3, "IF_curr_exp"), pop("src", 2, "SpikeSourceArray")}, nil)
	r, err := system.NewRun(context.Background(), System{}, decode(t, d), system.RunOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, js := range []string{`{"run":100}`, `{"reset":true}`, `{"run":50}`, `{"run":1}`} {
		a, err := network.DecodeAction([]byte(js), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(r.Plan().Info["realtime"])
	var rt map[string]any
	if err := json.Unmarshal(b, &rt); err != nil || rt["ticks"].(float64) != 151 {
		t.Errorf("ticks: %s %v", b, err)
	}
	a, _ := network.DecodeAction([]byte(`{"set":{"selection":[{"population":0}],"parameters":{"tau_m":10}}}`), nil)
	// today's sPyNNaker takes neuron parameters between runs
	if err := r.Apply(ctx, a); err != nil {
		t.Errorf("a parameter change after a run: %v", err)
	}
}

// The mapping report's "changes" (what nmp compare lists): per
// projection, how many weights the 16-bit words changed and by at most
// how much, and how many delays were rounded to the time step; none for a
// projection the machine holds exactly. After a run, the ring-buffer
// saturations also under a key compare reads.
func TestMappingChanges(t *testing.T) {
	d := desc(1, "", []string{pop("in", 4, "SpikeSourcePoisson"), pop("cells", 4, "IF_curr_exp")},
		[]string{proj(0, 1, 0.1, 1.5, `{"type":"OneToOneConnector"}`), proj(0, 1, 0.5, 2, `{"type":"OneToOneConnector"}`)})
	d = strings.Replace(d, `"connector":{"type":"OneToOneConnector"}}`, `"connector":{"type":"OneToOneConnector"},"label":"odd"}`, 1)
	d = strings.Replace(d, `"cell_type":"SpikeSourcePoisson"}`, `"cell_type":"SpikeSourcePoisson","parameters":{"rate":100}}`, 1)
	d = strings.Replace(d, `"projections"`, `"schedule":[{"run":100}],"projections"`, 1)
	p, err := prepare(t, d)
	if err != nil {
		t.Fatal(err)
	}
	in := info(t, p)
	list, _ := in["changes"].([]any)
	var lines []string
	for _, c := range list {
		m := c.(map[string]any)
		lines = append(lines, fmt.Sprintf("%v: %v", m["what"], m["detail"]))
	}
	t.Logf("%q", lines)
	lsb := math.Ldexp(1, int(lastPlan.shifts[1][0])-15)
	if len(lines) != 2 || !strings.Contains(lines[0], `"odd"`) || !strings.Contains(lines[0], "delays rounded") ||
		!strings.Contains(lines[0], "4 of 4 delays rounded to the 1 ms time step, by at most 0.5 ms") ||
		!strings.Contains(lines[1], `"odd"`) || !strings.Contains(lines[1], "4 of 4 weights changed") {
		t.Fatalf("changes %q", lines)
	}
	if q, _ := quantise(0.5, lastPlan.shifts[1][0]); float64(q)*lsb != 0.5 {
		t.Fatalf("0.5 is not a whole number of LSBs (%v): the test's second projection would change", lsb)
	}
	r, err := system.NewRun(context.Background(), System{}, decode(t, d), system.RunOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	rt := info(t, r.Plan())["realtime"].(map[string]any)
	if _, ok := rt["ring_buffer_saturated"]; !ok || rt["ring_buffer_saturated"] != rt["ring_buffer_saturations"] {
		t.Errorf("realtime %v", rt)
	}
}
