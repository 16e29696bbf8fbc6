package engine

import (
	"fmt"
	"math"
)

// Short-term plasticity: TsodyksMarkramSynapse, as NEST's tsodyks2_synapse.
// The helpers at the top are shared by all non-static synapse dynamics.

// paramCol is one parameter of a synapse type within one thread's part of
// a projection: a column with one value per synapse where values differ,
// otherwise (col nil) the constant c.
type paramCol struct {
	col []float64
	c   float64
}

func (p *paramCol) at(j int64) float64 {
	if p.col != nil {
		return p.col[j]
	}
	return p.c
}

// partParam returns parameter name of part k of pj.
func partParam(pj *projRT, k int, name string) paramCol {
	if xs, ok := pj.parts[k].extra[name]; ok {
		return paramCol{col: xs}
	}
	return paramCol{c: synParam(pj.desc, pj.typ, name)}
}

// checkParams checks the values of the named parameters of every synapse
// of pj against the catalog's constraints. Values given as numbers or
// arrays were validated with the description; drawn ones are checked here.
func checkParams(pj *projRT, names ...string) error {
	for _, name := range names {
		pd := pj.typ.Param(name)
		if pd == nil {
			continue
		}
		if _, ok := pj.parts[0].extra[name]; !ok {
			if r := pd.Check(synParam(pj.desc, pj.typ, name)); r != "" {
				return fmt.Errorf("%s %s, got %g", name, r, synParam(pj.desc, pj.typ, name))
			}
			continue
		}
		var err error
		k := 0
		pj.eachSynapse(func(c *csr, j int64, _ int) {
			if err == nil {
				x := c.extra[name][j]
				if r := pd.Check(x); r != "" {
					err = fmt.Errorf("connection %d: %s %s, got %g", k, name, r, x)
				}
			}
			k++
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// setParamColumn checks vals (one per connection, in connection order)
// against the catalog and stores them as a per-synapse column of every
// part, as SetSynapseValues does for types without state.
func setParamColumn(pj *projRT, name string, vals []float64) error {
	pd := pj.typ.Param(name)
	if pd == nil {
		return fmt.Errorf("%s has no parameter %q", pj.typ.Name, name)
	}
	for k, x := range vals {
		if r := pd.Check(x); r != "" {
			return fmt.Errorf("connection %d: %s %s, got %g", k, name, r, x)
		}
	}
	for _, c := range pj.parts {
		if c.extra == nil {
			c.extra = map[string][]float64{}
		}
		if _, ok := c.extra[name]; !ok {
			c.extra[name] = make([]float64, c.len())
		}
	}
	k := 0
	pj.eachSynapse(func(c *csr, j int64, _ int) { c.extra[name][j] = vals[k]; k++ })
	return nil
}

// gather returns per-synapse values of the parts in connection order.
func gather(pj *projRT, col func(k int) []float64) []float64 {
	out := make([]float64, 0, pj.n)
	cols := make([][]float64, len(pj.parts))
	for k := range pj.parts {
		cols[k] = col(k)
	}
	for r := 0; r < pj.nrows; r++ {
		for k, c := range pj.parts {
			out = append(out, cols[k][c.rowPtr[r]:c.rowPtr[r+1]]...)
		}
	}
	return out
}

// scatter writes per-synapse values given in connection order into the parts.
func scatter(pj *projRT, vals []float64, col func(k int) []float64) {
	i := 0
	for r := 0; r < pj.nrows; r++ {
		for k, c := range pj.parts {
			n := int(c.rowPtr[r+1] - c.rowPtr[r])
			copy(col(k)[c.rowPtr[r]:c.rowPtr[r+1]], vals[i:i+n])
			i += n
		}
	}
}

// add adds weight w of synapse j, for a spike of stamp s, to the ring.
func (dl *delivery) add(c *csr, j int64, s int64, w float64) {
	d := int64(c.delay0)
	if c.delay != nil {
		d = int64(c.delay[j])
	}
	dl.ring[int((s+d)%dl.slots)*dl.n+int(c.target[j])] += w
}

// stpDecay returns exp(-h/tau_rec) and exp(-h/tau_facil), the latter 0
// when facilitation is off (tau_facil = 0), as in NEST.
func stpDecay(h, tauRec, tauFac float64) (xd, ud float64) {
	xd = math.Exp(-h / tauRec)
	if tauFac > 0 {
		ud = math.Exp(-h / tauFac)
	}
	return xd, ud
}

func init() {
	synapseDynamics["TsodyksMarkramSynapse"] = newTsodyksMarkram
}

// tsodyksMarkram is the deterministic Tsodyks-Markram model. Between
// spikes, u decays to 0 with tau_facil and the resources x recover to 1
// with tau_rec, exactly; at a spike u jumps by U(1-u), the synapse
// transmits weight*u*x and x loses u*x. The initial state (u and x at
// t = 0, PyNN's and NEST's names) is given like a parameter; reset
// restores it.
type tsodyksMarkram struct {
	dt    float64
	pj    *projRT
	parts []tmPart
}

type tmPart struct {
	U, tauRec, tauFac, u0, x0 paramCol
	hom                       bool // U, tau_rec and tau_facil are the same for all synapses
	// x and u just after the last spike of each synapse (x after release).
	x, u []float64
	// last is the stamp of each row's last spike; 0 (t = 0) before the first.
	last []int64
}

func newTsodyksMarkram(s *Simulator, pj *projRT) (dynamics, error) {
	if err := checkParams(pj, "U", "tau_rec", "tau_facil", "u", "x"); err != nil {
		return nil, err
	}
	d := &tsodyksMarkram{dt: s.dt, pj: pj, parts: make([]tmPart, len(pj.parts))}
	for k, c := range pj.parts {
		p := &d.parts[k]
		p.x = make([]float64, c.len())
		p.u = make([]float64, c.len())
		p.last = make([]int64, c.rows())
		d.load(k)
	}
	d.reset()
	return d, nil
}

// load reads the parameters of part k.
func (d *tsodyksMarkram) load(k int) {
	p := &d.parts[k]
	p.U = partParam(d.pj, k, "U")
	p.tauRec = partParam(d.pj, k, "tau_rec")
	p.tauFac = partParam(d.pj, k, "tau_facil")
	p.u0 = partParam(d.pj, k, "u")
	p.x0 = partParam(d.pj, k, "x")
	p.hom = p.U.col == nil && p.tauRec.col == nil && p.tauFac.col == nil
}

func (d *tsodyksMarkram) deliver(k int, c *csr, r int, n int64, dl *delivery) {
	p := &d.parts[k]
	a, b := c.rowPtr[r], c.rowPtr[r+1]
	if a == b {
		return
	}
	s := n + 1
	h := float64(s-p.last[r]) * d.dt
	p.last[r] = s
	U := p.U.c
	xd, ud := stpDecay(h, p.tauRec.c, p.tauFac.c)
	for j := a; j < b; j++ {
		if !p.hom {
			U = p.U.at(j)
			xd, ud = stpDecay(h, p.tauRec.at(j), p.tauFac.at(j))
		}
		u := p.u[j] * ud
		u += U * (1 - u)
		x := 1 - (1-p.x[j])*xd
		p.u[j], p.x[j] = u, x-u*x
		dl.add(c, j, s, float64(c.weight[j])*u*x)
	}
}

func (d *tsodyksMarkram) post(int, *csr, int32, int64) {}

func (d *tsodyksMarkram) reset() {
	for k := range d.parts {
		p := &d.parts[k]
		for j := range p.x {
			p.x[j] = p.x0.at(int64(j))
			p.u[j] = p.u0.at(int64(j))
		}
		clear(p.last)
	}
}

// values reports u, the release probability, and x, the available
// resources, just after each synapse's last spike (the initial state before
// the first), as NEST reports them.
func (d *tsodyksMarkram) values(pj *projRT, name string) ([]float64, bool) {
	switch name {
	case "u":
		return gather(pj, func(k int) []float64 { return d.parts[k].u }), true
	case "x":
		return gather(pj, func(k int) []float64 { return d.parts[k].x }), true
	}
	return nil, false
}

// setValues sets parameters, re-reading them afterwards; setting u or x sets
// both the current value and the initial one that reset restores.
func (d *tsodyksMarkram) setValues(pj *projRT, name string, vals []float64) (bool, error) {
	switch name {
	case "U", "tau_rec", "tau_facil", "u", "x":
	default:
		return false, nil
	}
	if err := setParamColumn(pj, name, vals); err != nil {
		return true, err
	}
	for k := range d.parts {
		d.load(k)
	}
	switch name {
	case "u":
		scatter(pj, vals, func(k int) []float64 { return d.parts[k].u })
	case "x":
		scatter(pj, vals, func(k int) []float64 { return d.parts[k].x })
	}
	return true, nil
}
