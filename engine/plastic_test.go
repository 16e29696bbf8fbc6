package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// countingRule is a system's plasticity for the test: every presynaptic
// spike adds 1 to the weights of its row's synapses (after transmitting
// them), and the stamps of the calls are kept.
type countingRule struct {
	parts          []PlasticPart
	w              [][]float64
	out            [][]float64
	mu             sync.Mutex
	pre, post      []int64
	preRows, posts []int
	resets         int
}

func (r *countingRule) Pre(k, row int, s int64) []float64 {
	p := r.parts[k]
	a, b := p.Row[row], p.Row[row+1]
	out := r.out[k][:b-a]
	for j := a; j < b; j++ {
		out[j-a] = r.w[k][j]
		r.w[k][j]++
	}
	r.mu.Lock()
	r.pre, r.preRows = append(r.pre, s), append(r.preRows, row)
	r.mu.Unlock()
	return out
}

func (r *countingRule) Post(k int, g int32, s int64) {
	if int(g) < r.parts[k].Lo || int(g) >= r.parts[k].Hi {
		panic(fmt.Sprintf("post neuron %d outside part %d", g, k))
	}
	r.mu.Lock()
	r.post, r.posts = append(r.post, s), append(r.posts, int(g))
	r.mu.Unlock()
}

func (r *countingRule) Reset()                  { r.resets++ }
func (r *countingRule) Weights(k int) []float64 { return r.w[k] }

var testRules = map[string]*countingRule{}

func init() {
	RegisterPlasticity("TestCountingPlastic", func(pr *network.Projection, dt float64, parts []PlasticPart) (PlasticRule, error) {
		r := &countingRule{parts: parts}
		for _, p := range parts {
			r.w = append(r.w, slices.Clone(p.Weight))
			r.out = append(r.out, make([]float64, len(p.Target)))
		}
		testRules[pr.Label] = r
		return r, nil
	})
}

// TestRegisterPlasticity runs a projection whose plasticity a system
// provides: the rule sees every presynaptic spike of each row it has
// synapses in, at its emission stamp, and the spikes of its thread's
// neurons; its weights are read back and cannot be set; reset reaches it.
func TestRegisterPlasticity(t *testing.T) {
	cat := network.Standard.Clone()
	st := *cat.Synapses["STDPMechanism"]
	st.Name = "TestCountingPlastic"
	cat.Synapses[st.Name] = &st
	for _, threads := range []int{1, 2} {
		c := &stdpCase{rule: pairRule("AdditiveWeightDependence", nil), ddf: 1,
			pre: [][]float64{{1, 5}, {3}}, drive: [][]float64{{2}, {4}}, conns: [][2]int64{{0, 0}, {0, 1}, {1, 1}},
			w0: []float64{0.5, 0.25, 0.125}, d0: []float64{1, 1, 1}}
		d := c.desc(1)
		d.Projections[0].Synapse.Type = st.Name
		d.Projections[0].Label = fmt.Sprintf("counting%d", threads)
		s, err := New(d, Options{Threads: threads, Catalog: cat})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(t.Context(), 10, nil); err != nil {
			t.Fatal(err)
		}
		r := testRules[d.Projections[0].Label]
		w, err := s.SynapseValues(0, "weight")
		if err != nil {
			t.Fatal(err)
		}
		// neuron 0 spikes twice (both reach synapses 0 and 1), neuron 1 once
		if want := []float64{2.5, 2.25, 1.125}; !slices.Equal(w, want) {
			t.Errorf("%d threads: weights %v, want %v", threads, w, want)
		}
		pre := map[int64]int{}
		for i, s := range r.pre {
			pre[s*10+int64(r.preRows[i])]++
		}
		// spikes at 1, 3 and 5 ms: stamps 10, 30, 50 (rows 0, 1, 0), once
		// per part the row has synapses in
		want := map[int64]int{100: 1, 301: 1, 500: 1}
		if threads == 2 {
			want = map[int64]int{100: 2, 301: 1, 500: 2}
		}
		if fmt.Sprint(pre) != fmt.Sprint(want) {
			t.Errorf("%d threads: Pre calls (stamp*10+row) %v, want %v", threads, pre, want)
		}
		// Post sees every spike of the thread's neurons; those of the
		// postsynaptic population (global 2 and 3) at their stamps.
		post := postStamps(s, 2)
		var got [][]int64 = make([][]int64, 2)
		for i, g := range r.posts {
			if g == 2 || g == 3 {
				got[g-2] = append(got[g-2], r.post[i])
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(post) || len(post[0]) == 0 {
			t.Errorf("%d threads: Post stamps %v, the neurons spiked at %v", threads, got, post)
		}
		if err := s.SetSynapseValues(0, "weight", ptr(network.Scalar(1))); err == nil {
			t.Errorf("%d threads: setting a system's plastic weights did not fail", threads)
		}
		if err := s.Apply(t.Context(), &network.Action{Reset: true}, nil); err != nil {
			t.Fatal(err)
		}
		if r.resets != 1 {
			t.Errorf("%d threads: %d resets", threads, r.resets)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestRegisterPlasticityRefusesInitialState: a system's rule keeps its own
// state, so an initial Kplus (the engine's STDP state) is refused, with the
// projection named, rather than silently ignored.
func TestRegisterPlasticityRefusesInitialState(t *testing.T) {
	cat := network.Standard.Clone()
	st := *cat.Synapses["STDPMechanism"]
	st.Name = "TestCountingPlastic"
	cat.Synapses[st.Name] = &st
	c := &stdpCase{rule: pairRule("AdditiveWeightDependence", nil), ddf: 1,
		pre: [][]float64{{1}}, drive: [][]float64{{2}}, conns: [][2]int64{{0, 0}}, w0: []float64{0.5}, d0: []float64{1}}
	d := c.desc(1)
	d.Projections[0].Synapse.Type = st.Name
	d.Projections[0].Label = "kplus"
	d.Projections[0].Synapse.Parameters["Kplus"] = network.Scalar(1)
	_, err := New(d, Options{Threads: 1, Catalog: cat})
	if err == nil || !strings.Contains(err.Error(), `"kplus"`) || !strings.Contains(err.Error(), "Kplus") {
		t.Fatalf("error %v, want one naming the projection and Kplus", err)
	}
}
