package engine

import (
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/internal/rng"
)

// Stochastic synapses: SimpleStochasticSynapse (NEST's bernoulli_synapse),
// StochasticTsodyksMarkramSynapse (PyNN's stochastic_stp_synapse for NEST)
// and MultiQuantalSynapse (NEST's quantal_stp_synapse).
//
// Their random numbers are counter-based: the draws of synapse i (its
// position in connection order) for a spike of stamp s are a function of
// the simulation seed, the projection, the number of resets so far, s and
// i. No stream is shared between synapses, so the draws do not depend on
// the thread count, on the order in which threads visit synapses, or on how
// many draws other synapses made.

func init() {
	synapseDynamics["SimpleStochasticSynapse"] = newBernoulli
	synapseDynamics["StochasticTsodyksMarkramSynapse"] = newStochasticTM
	synapseDynamics["MultiQuantalSynapse"] = newQuantal
}

// releaseDraws derives the random numbers of a projection's synapses.
type releaseDraws struct {
	seed  uint64 // the simulation seed
	proj  uint64
	key   uint64 // of the current epoch
	epoch uint64 // resets so far
	// ids holds per part and row the offset from a synapse's index in the
	// part to its position in connection order.
	ids [][]int64
}

func newReleaseDraws(s *Simulator, pj *projRT) releaseDraws {
	rd := releaseDraws{seed: s.desc.Simulation.Seed, proj: uint64(pj.index), ids: make([][]int64, len(pj.parts))}
	for k := range pj.parts {
		rd.ids[k] = make([]int64, pj.nrows)
	}
	id := int64(0)
	for r := 0; r < pj.nrows; r++ {
		for k, c := range pj.parts {
			rd.ids[k][r] = id - c.rowPtr[r]
			id += c.rowPtr[r+1] - c.rowPtr[r]
		}
	}
	rd.rekey()
	return rd
}

func (rd *releaseDraws) rekey() {
	rd.key = rng.Derive(rd.seed, domainSynapse, rd.proj, nameKey("release"), rd.epoch)
}

// spike returns the base of the draws for a spike of stamp s.
func (rd *releaseDraws) spike(s int64) uint64 {
	return rng.Mix(rd.key ^ rng.Mix(uint64(s)+0x632be59bd9b4e019))
}

// synapse returns the draws of synapse j of part k, row r, given the
// spike's base: a short SplitMix64 sequence.
func (rd *releaseDraws) synapse(base uint64, k, r int, j int64) draws {
	return draws{z: rng.Mix(base ^ rng.Mix(uint64(j+rd.ids[k][r])))}
}

// draws is one synapse's random numbers for one spike.
type draws struct{ z uint64 }

// float returns the next uniform number in [0, 1).
func (d *draws) float() float64 {
	d.z += 0x9e3779b97f4a7c15
	return float64(rng.Mix(d.z)>>11) * (1.0 / (1 << 53))
}

// reset starts new draws, so that a repeated trial after a reset does not
// repeat the previous trial's releases.
func (rd *releaseDraws) reset() {
	rd.epoch++
	rd.rekey()
}

// bernoulli transmits each spike with probability p.
type bernoulli struct {
	pj *projRT
	rd releaseDraws
	p  []paramCol
}

func newBernoulli(s *Simulator, pj *projRT) (dynamics, error) {
	if err := checkParams(pj, "p"); err != nil {
		return nil, err
	}
	d := &bernoulli{pj: pj, rd: newReleaseDraws(s, pj), p: make([]paramCol, len(pj.parts))}
	d.load()
	return d, nil
}

func (d *bernoulli) load() {
	for k := range d.p {
		d.p[k] = partParam(d.pj, k, "p")
	}
}

func (d *bernoulli) deliver(k int, c *csr, r int, n int64, dl *delivery) {
	a, b := c.rowPtr[r], c.rowPtr[r+1]
	if a == b {
		return
	}
	s := n + 1
	base := d.rd.spike(s)
	p := &d.p[k]
	for j := a; j < b; j++ {
		dr := d.rd.synapse(base, k, r, j)
		if dr.float() < p.at(j) {
			dl.add(c, j, s, float64(c.weight[j]))
		}
	}
}

func (d *bernoulli) post(int, *csr, int32, int64) {}

func (d *bernoulli) reset() { d.rd.reset() }

func (d *bernoulli) setValues(pj *projRT, name string, vals []float64) (bool, error) {
	if name != "p" {
		return false, nil
	}
	if err := setParamColumn(pj, name, vals); err != nil {
		return true, err
	}
	d.load()
	return true, nil
}

// stochasticTM releases a single vesicle with probability u, which
// facilitates as in the Tsodyks-Markram model; after a release the site
// recovers as a Poisson process of rate 1/tau_rec (Fuhrmann et al. 2002),
// as PyNN's stochastic_stp_synapse for NEST. Its initial state, given like a
// parameter under that model's names, is u (the release probability, 0
// when not given) and R (1: the site is recovered, 0: it is depleted and
// recovers from t = 0); reset restores it.
type stochasticTM struct {
	sim   *Simulator
	dt    float64
	pj    *projRT
	rd    releaseDraws
	parts []stmPart
}

type stmPart struct {
	U, tauRec, tauFac paramCol
	u0, r0            paramCol  // the initial state
	u                 []float64 // per synapse, just after its last spike
	// surv is per synapse -1 while the site is recovered, else the stamp
	// from which it has survived unrecovered.
	surv []int64
	last []int64 // per row: the last spike's stamp, 0 (t = 0) before the first
}

func newStochasticTM(s *Simulator, pj *projRT) (dynamics, error) {
	if err := checkParams(pj, "U", "tau_rec", "tau_facil", "u", "R"); err != nil {
		return nil, err
	}
	d := &stochasticTM{sim: s, dt: s.dt, pj: pj, rd: newReleaseDraws(s, pj), parts: make([]stmPart, len(pj.parts))}
	for k, c := range pj.parts {
		p := &d.parts[k]
		p.u = make([]float64, c.len())
		p.surv = make([]int64, c.len())
		p.last = make([]int64, c.rows())
	}
	d.load()
	d.clear()
	return d, nil
}

func (d *stochasticTM) load() {
	for k := range d.parts {
		p := &d.parts[k]
		p.U = partParam(d.pj, k, "U")
		p.tauRec = partParam(d.pj, k, "tau_rec")
		p.tauFac = partParam(d.pj, k, "tau_facil")
		p.u0 = partParam(d.pj, k, "u")
		p.r0 = partParam(d.pj, k, "R")
	}
}

// clear puts every synapse in its initial state.
func (d *stochasticTM) clear() {
	for k := range d.parts {
		p := &d.parts[k]
		for j := range p.u {
			p.u[j] = p.u0.at(int64(j))
		}
		d.setRecovered(k, 0)
		clear(p.last)
	}
}

// setRecovered sets the recovered state of part k's synapses to R: a
// depleted site has survived unrecovered from the stamp from.
func (d *stochasticTM) setRecovered(k int, from int64) {
	p := &d.parts[k]
	for j := range p.surv {
		p.surv[j] = -1
		if p.r0.at(int64(j)) == 0 {
			p.surv[j] = from
		}
	}
}

func (d *stochasticTM) deliver(k int, c *csr, r int, n int64, dl *delivery) {
	p := &d.parts[k]
	a, b := c.rowPtr[r], c.rowPtr[r+1]
	if a == b {
		return
	}
	s := n + 1
	h := float64(s-p.last[r]) * d.dt
	p.last[r] = s
	base := d.rd.spike(s)
	for j := a; j < b; j++ {
		U, tauFac := p.U.at(j), p.tauFac.at(j)
		u := U
		if tauFac > 0 {
			u = p.u[j] * math.Exp(-h/tauFac)
			u += U * (1 - u)
		}
		p.u[j] = u
		dr := d.rd.synapse(base, k, r, j)
		recover, release := dr.float(), dr.float()
		if sv := p.surv[j]; sv >= 0 {
			if recover >= math.Exp(-float64(s-sv)*d.dt/p.tauRec.at(j)) {
				p.surv[j] = -1
			} else {
				p.surv[j] = s
			}
		}
		if p.surv[j] < 0 && release < u {
			p.surv[j] = s
			dl.add(c, j, s, float64(c.weight[j]))
		}
	}
}

func (d *stochasticTM) post(int, *csr, int32, int64) {}

func (d *stochasticTM) reset() {
	d.clear()
	d.rd.reset()
}

// values reports the state: u just after each synapse's last spike, and R,
// 1 while its site is recovered (the initial state before the first spike).
func (d *stochasticTM) values(pj *projRT, name string) ([]float64, bool) {
	switch name {
	case "u":
		return gather(pj, func(k int) []float64 { return d.parts[k].u }), true
	case "R":
		return gather(pj, func(k int) []float64 {
			r := make([]float64, len(d.parts[k].surv))
			for j, sv := range d.parts[k].surv {
				if sv < 0 {
					r[j] = 1
				}
			}
			return r
		}), true
	}
	return nil, false
}

// setValues sets parameters; setting u or R sets both the current state and
// the initial one that reset restores.
func (d *stochasticTM) setValues(pj *projRT, name string, vals []float64) (bool, error) {
	switch name {
	case "U", "tau_rec", "tau_facil", "u", "R":
	default:
		return false, nil
	}
	if err := setParamColumn(pj, name, vals); err != nil {
		return true, err
	}
	d.load()
	switch name {
	case "u":
		scatter(pj, vals, func(k int) []float64 { return d.parts[k].u })
	case "R":
		// Depleted from now on (from t = 0 before the first run).
		for k := range d.parts {
			d.setRecovered(k, d.sim.step)
		}
	}
	return true, nil
}

// quantal has n release sites per synapse. At each spike, u facilitates as
// in the Tsodyks-Markram model, each depleted site has recovered with
// probability 1 - exp(-h/tau_rec) since the last spike, and each available
// site releases with probability u; the synapse transmits weight times the
// number of released sites. As in NEST's quantal_stp_synapse, the first
// spike uses u = U and all n sites without an update.
type quantal struct {
	dt    float64
	pj    *projRT
	rd    releaseDraws
	parts []quantalPart
}

type quantalPart struct {
	U, tauRec, tauFac, n paramCol
	// u0 and a0 are the initial state, when the description gives it
	// (hasU0, hasA0); otherwise u starts at U and a at n.
	u0, a0       paramCol
	hasU0, hasA0 bool
	u            []float64 // per synapse, at its last spike
	avail        []int32   // available sites per synapse
	last         []int64   // per row: the last spike's stamp, 0 before the first
}

func newQuantal(s *Simulator, pj *projRT) (dynamics, error) {
	if err := checkParams(pj, "U", "tau_rec", "tau_facil", "n", "u", "a"); err != nil {
		return nil, err
	}
	d := &quantal{dt: s.dt, pj: pj, rd: newReleaseDraws(s, pj), parts: make([]quantalPart, len(pj.parts))}
	for k, c := range pj.parts {
		p := &d.parts[k]
		p.u = make([]float64, c.len())
		p.avail = make([]int32, c.len())
		p.last = make([]int64, c.rows())
	}
	d.load()
	if err := d.checkSites(); err != nil {
		return nil, err
	}
	d.clear()
	return d, nil
}

func (d *quantal) load() {
	for k := range d.parts {
		p := &d.parts[k]
		p.U = partParam(d.pj, k, "U")
		p.tauRec = partParam(d.pj, k, "tau_rec")
		p.tauFac = partParam(d.pj, k, "tau_facil")
		p.n = partParam(d.pj, k, "n")
		p.u0, p.hasU0 = partParam(d.pj, k, "u"), givenParam(d.pj, k, "u")
		p.a0, p.hasA0 = partParam(d.pj, k, "a"), givenParam(d.pj, k, "a")
	}
}

// givenParam tells whether the description gives the synapse parameter
// (rather than leaving it to the catalog's default).
func givenParam(pj *projRT, k int, name string) bool {
	if _, ok := pj.parts[k].extra[name]; ok {
		return true
	}
	if pj.desc.Connections != nil {
		if _, ok := pj.desc.Connections.Parameters[name]; ok {
			return true
		}
	}
	_, ok := pj.desc.Synapse.Parameters[name]
	return ok
}

// maxSites bounds n, which is held in 32 bits.
const maxSites = math.MaxInt32

func (d *quantal) checkSites() error {
	for k := range d.parts {
		p := &d.parts[k]
		if p.n.col == nil {
			if p.n.c > maxSites {
				return fmt.Errorf("n = %g release sites is more than %d", p.n.c, maxSites)
			}
			continue
		}
		for i, n := range gather(d.pj, func(k int) []float64 { return d.parts[k].n.col }) {
			if n > maxSites {
				return fmt.Errorf("connection %d: n = %g release sites is more than %d", i, n, maxSites)
			}
		}
		return nil
	}
	return nil
}

func (d *quantal) clear() {
	for k := range d.parts {
		p := &d.parts[k]
		for j := range p.u {
			p.u[j] = p.U.at(int64(j))
			if p.hasU0 {
				p.u[j] = p.u0.at(int64(j))
			}
			p.avail[j] = int32(p.n.at(int64(j)))
			if p.hasA0 {
				p.avail[j] = int32(min(p.a0.at(int64(j)), p.n.at(int64(j))))
			}
		}
		clear(p.last)
	}
}

func (d *quantal) deliver(k int, c *csr, r int, n int64, dl *delivery) {
	p := &d.parts[k]
	a, b := c.rowPtr[r], c.rowPtr[r+1]
	if a == b {
		return
	}
	s := n + 1
	first := p.last[r] == 0
	h := float64(s-p.last[r]) * d.dt
	p.last[r] = s
	base := d.rd.spike(s)
	for j := a; j < b; j++ {
		dr := d.rd.synapse(base, k, r, j)
		st := rng.New(dr.z)
		u, avail := p.u[j], int(p.avail[j])
		if !first {
			U := p.U.at(j)
			pd, ud := stpDecay(h, p.tauRec.at(j), p.tauFac.at(j))
			u = U + u*(1-U)*ud
			avail += st.Binomial(int(p.n.at(j))-avail, 1-pd)
		}
		released := st.Binomial(avail, u)
		p.u[j], p.avail[j] = u, int32(avail-released)
		if released > 0 {
			dl.add(c, j, s, float64(released)*float64(c.weight[j]))
		}
	}
}

func (d *quantal) post(int, *csr, int32, int64) {}

func (d *quantal) reset() {
	d.clear()
	d.rd.reset()
}

// values reports the state: u and the available sites a at each synapse's
// last spike (the initial state before the first).
func (d *quantal) values(pj *projRT, name string) ([]float64, bool) {
	switch name {
	case "u":
		return gather(pj, func(k int) []float64 { return d.parts[k].u }), true
	case "a":
		return gather(pj, func(k int) []float64 {
			a := make([]float64, len(d.parts[k].avail))
			for j, n := range d.parts[k].avail {
				a[j] = float64(n)
			}
			return a
		}), true
	}
	return nil, false
}

func (d *quantal) setValues(pj *projRT, name string, vals []float64) (bool, error) {
	switch name {
	case "U", "tau_rec", "tau_facil", "n", "u", "a":
	default:
		return false, nil
	}
	if err := setParamColumn(pj, name, vals); err != nil {
		return true, err
	}
	d.load()
	// Setting the state sets the current value and the initial one that reset restores.
	switch name {
	case "u":
		for k := range d.parts {
			p := &d.parts[k]
			p.hasU0 = true
			for j := range p.u {
				p.u[j] = p.u0.at(int64(j))
			}
		}
	case "a":
		for k := range d.parts {
			p := &d.parts[k]
			p.hasA0 = true
			for j := range p.avail {
				p.avail[j] = int32(min(p.a0.at(int64(j)), p.n.at(int64(j))))
			}
		}
	}
	if name == "n" {
		if err := d.checkSites(); err != nil {
			return true, err
		}
		// As in NEST, a change of n leaves the available sites alone, but
		// no more than n can be available; added sites start depleted.
		for k := range d.parts {
			p := &d.parts[k]
			for j := range p.avail {
				p.avail[j] = int32(min(float64(p.avail[j]), p.n.at(int64(j))))
			}
		}
	}
	return true, nil
}
