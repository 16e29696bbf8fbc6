package brainscales1

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nmp-platform/nmp/internal/rng"
)

// defects is a wafer's blacklist (redman's semantics: every component is
// available unless disabled).
type defects struct {
	// noBlacklist: no defect data at all (Defects.Backend.None/Without).
	noBlacklist bool
	// hicann[h]: the HICANN is not available.
	hicann [numHICANNs]bool
	// missing[h]: the XML backend has no file for the HICANN.
	missing [numHICANNs]bool
	den     map[int32]bool // h*512 + y*256 + x
	drv     map[int32]bool // h*224 + driver
	mrg     map[int32]bool // h*8 + DNC merger
	// hbus and vbus count the buses a HICANN cannot use: defect buses,
	// and one per defect repeater or crossbar switch of that kind (a bus
	// whose repeater or switch is out cannot carry a route through).
	hbus [numHICANNs]int
	vbus [numHICANNs][2]int
	// syn holds defect synapses (SynapseOnHICANN Enum: row*256 + column),
	// per HICANN; synRate, when set, draws the virtual wafer's own on first
	// use (synapses are many, and most HICANNs are never asked).
	syn     map[int]map[int32]bool
	synRate float64
	wafer   int
}

func newDefects() *defects {
	return &defects{den: map[int32]bool{}, drv: map[int32]bool{}, mrg: map[int32]bool{}, syn: map[int]map[int32]bool{}}
}

// synapse reports whether synapse (row, col) of HICANN h is defect.
func (d *defects) synapse(h, row, col int) bool {
	s, ok := d.syn[h]
	if !ok && d.synRate > 0 {
		s = map[int32]bool{}
		r := rng.New(rng.Derive(uint64(d.wafer), domSynDefects, uint64(h)))
		n := r.Binomial(numRows*denmemsPerRow, d.synRate)
		for i := 0; i < n; i++ {
			s[int32(r.Uint64()%uint64(numRows*denmemsPerRow))] = true
		}
		d.syn[h] = s
	}
	return s[int32(row*denmemsPerRow+col)]
}

func (d *defects) disableSynapse(h int, e int32) {
	s := d.syn[h]
	if s == nil {
		s = map[int32]bool{}
		d.syn[h] = s
	}
	s[e] = true
}

func (d *defects) denmem(h, x, y int) bool { return d.den[int32(h*numDenmems+y*denmemsPerRow+x)] }
func (d *defects) driver(h, i int) bool    { return d.drv[int32(h*numDrivers+i)] }
func (d *defects) merger(h, m int) bool    { return d.mrg[int32(h*numDNCMergers+m)] }

// The default defect set a virtual wafer gets, drawn from its number:
// calibration-failed denmems, defect synapse drivers, buses whose driving
// neighbour could not be initialised, and DNC mergers, at these rates.
const (
	defDenmem = 0.02
	defDriver = 0.01
	defBus    = 0.01
	defMerger = 0.005
	// defSynapse: synapses whose calibration failed or that do not switch off.
	defSynapse = 0.001
)

func defaultDefects(wafer int) *defects {
	d := newDefects()
	d.wafer, d.synRate = wafer, defSynapse
	for h := 0; h < numHICANNs; h++ {
		r := rng.New(rng.Derive(uint64(wafer), domDefects, uint64(h)))
		for i := 0; i < numDenmems; i++ {
			if r.Float64() < defDenmem {
				d.den[int32(h*numDenmems+i)] = true
			}
		}
		for i := 0; i < numDrivers; i++ {
			if r.Float64() < defDriver {
				d.drv[int32(h*numDrivers+i)] = true
			}
		}
		d.hbus[h] = r.Binomial(numHLines, defBus)
		d.vbus[h][0] = r.Binomial(vlinesPerSide, defBus)
		d.vbus[h][1] = r.Binomial(vlinesPerSide, defBus)
		for i := 0; i < numDNCMergers; i++ {
			if r.Float64() < defMerger {
				d.mrg[int32(h*numDNCMergers+i)] = true
			}
		}
	}
	return d
}

// loadDefects reads the defect data the options name.
func loadDefects(o *Options) (*defects, error) {
	switch o.Defects.Backend {
	case "none", "without":
		d := newDefects()
		d.noBlacklist = true
		return d, nil
	case "xml":
		return readRedman(o.Defects.Path, o.Wafer)
	}
	return defaultDefects(o.Wafer), nil
}

// readRedman reads redman's XML blacklists from dir: the wafer's file
// (disabled HICANNs) and one file per HICANN (disabled components), named as
// redman's XML backend names them, hicann-Wafer(W)-Enum(E).xml and
// wafer-Wafer(W).xml, or in nmp's short form hicann-W-E.xml and wafer-W.xml.
// A HICANN without a file, or whose file holds no value for its neurons,
// has no neuron blacklisting.
func readRedman(dir string, wafer int) (*defects, error) {
	d := newDefects()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("marocco.defects.path: %q is not a directory of redman XML files", dir)
	}
	open := func(names ...string) (*redmanData, string, error) {
		for _, n := range names {
			path := filepath.Join(dir, n)
			f, err := os.Open(path)
			if err != nil {
				continue
			}
			rd, err := parseRedman(f)
			f.Close()
			if err != nil {
				return nil, path, fmt.Errorf("%s: %w", path, err)
			}
			return rd, path, nil
		}
		return nil, "", nil
	}
	rd, wf, err := open(fmt.Sprintf("wafer-Wafer(%d).xml", wafer), fmt.Sprintf("wafer-%d.xml", wafer))
	if err != nil {
		return nil, err
	}
	if rd != nil {
		for _, h := range rd.comps["hicanns"] {
			if h < 0 || h >= numHICANNs {
				return nil, fmt.Errorf("%s: hicanns: %d is not a HICANNOnWafer Enum", wf, h)
			}
			d.hicann[h] = true
		}
	}
	for h := 0; h < numHICANNs; h++ {
		rd, path, err := open(fmt.Sprintf("hicann-Wafer(%d)-Enum(%d).xml", wafer, h), fmt.Sprintf("hicann-%d-%d.xml", wafer, h))
		if err != nil {
			return nil, err
		}
		if rd == nil || rd.noValue["neurons"] {
			d.missing[h] = true
		}
		if rd == nil {
			continue
		}
		if err := d.apply(h, rd.comps); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return d, nil
}

// componentLimits are the Enum ranges of the components the emulation
// models (halco's sizes).
var componentLimits = map[string]int{"neurons": numDenmems, "drivers": numDrivers, "dncmergers": numDNCMergers,
	"hbuses": numHLines, "vbuses": numVLines, "hrepeaters": numHLines, "vrepeaters": numVLines,
	"crossbarswitches": 512, "synapses": numRows * denmemsPerRow, "synapserows": numRows, "synapsearrays": 2,
	"synapseswitchrows": numDrivers, "synapseswitches": 7168}

func (d *defects) apply(h int, comps map[string][]int) error {
	names := make([]string, 0, len(comps))
	for name := range comps {
		names = append(names, name)
	}
	sort.Strings(names) // errors name the same component every time
	for _, name := range names {
		lim := componentLimits[name]
		for _, i := range comps[name] {
			if lim > 0 && (i < 0 || i >= lim) {
				return fmt.Errorf("%s: %d is out of range 0..%d", name, i, lim-1)
			}
			switch name {
			case "neurons":
				d.den[int32(h*numDenmems+i)] = true
			case "drivers", "synapseswitchrows":
				// a driver whose switch row is out cannot be reached
				d.drv[int32(h*numDrivers+i)] = true
			case "synapseswitches":
				// 32 switches per switch row (16 per side): the row is out
				d.drv[int32(h*numDrivers+i/32)] = true
			case "dncmergers":
				d.mrg[int32(h*numDNCMergers+i)] = true
			case "hbuses", "hrepeaters":
				d.hbus[h] = min(numHLines, d.hbus[h]+1)
			case "vbuses", "vrepeaters":
				d.vbus[h][i/vlinesPerSide] = min(vlinesPerSide, d.vbus[h][i/vlinesPerSide]+1)
			case "crossbarswitches":
				// 4 switches per HLine on each side: the first 256 on the left
				d.vbus[h][i/256] = min(vlinesPerSide, d.vbus[h][i/256]+1)
			case "synapses":
				d.disableSynapse(h, int32(i))
			case "synapserows":
				for c := 0; c < denmemsPerRow; c++ {
					d.disableSynapse(h, int32(i*denmemsPerRow+c))
				}
			case "synapsearrays":
				// the drivers of a defect array are disabled (marocco does so)
				for drv := 0; drv < numDrivers; drv++ {
					if drv/driversPerSide == i {
						d.drv[int32(h*numDrivers+drv)] = true
					}
				}
			}
		}
	}
	return nil
}

// redmanComponents are the component managers redman keeps; the emulation
// models those componentLimits lists and accepts the others.
var redmanComponents = map[string]bool{"neurons": true, "drivers": true, "dncmergers": true, "hbuses": true, "vbuses": true,
	"hicanns": true, "synapses": true, "synapserows": true, "synapticinputs": true, "analogs": true, "backgroundgenerators": true,
	"fgblocks": true, "vrepeaters": true, "hrepeaters": true, "synapseswitches": true, "crossbarswitches": true,
	"synapseswitchrows": true, "synapsearrays": true, "mergers0": true, "mergers1": true, "mergers2": true, "mergers3": true, "hslinks": true, "fpgas": true}

// boostNames are the names redman's boost archives give components whose
// managers are named otherwise.
var boostNames = map[string]string{"dnc_merger": "dncmergers", "synaptic_inputs": "synapticinputs",
	"merger0": "mergers0", "merger1": "mergers1", "merger2": "mergers2", "merger3": "mergers3"}

// redmanData is one blacklist file: the disabled Enums per component, and
// the components whose manager holds no value (no blacklisting at all).
type redmanData struct {
	comps   map[string][]int
	noValue map[string]bool
}

// xnode is an element of a parsed XML file.
type xnode struct {
	name string
	kids []*xnode
	text strings.Builder
}

func (n *xnode) child(name string) *xnode {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// parseXML reads a whole XML file into elements, within bounds on size,
// depth and element count.
func parseXML(r io.Reader) (*xnode, error) {
	dec := xml.NewDecoder(io.LimitReader(r, 64<<20))
	root := &xnode{}
	stack := []*xnode{root}
	count := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not redman XML: %w", err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if count++; count > 4<<20 {
				return nil, errors.New("not redman XML: too many elements")
			}
			if len(stack) > 32 {
				return nil, fmt.Errorf("not redman XML: <%s> nested too deep", t.Name.Local)
			}
			n := &xnode{name: t.Name.Local}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.CharData:
			if top.text.Len()+len(t) > 1<<20 {
				return nil, fmt.Errorf("not redman XML: <%s>: too long", top.name)
			}
			top.text.Write(t)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 1 {
		return nil, errors.New("not redman XML: unclosed element")
	}
	if len(root.kids) != 1 {
		return nil, errors.New("not redman XML: no single root element")
	}
	return root.kids[0], nil
}

// parseRedman reads one blacklist file, in either of two forms:
//
//   - redman's own, a boost serialization archive as its XML backend
//     writes it: under boost_serialization/data/px, a Hicann or Wafer
//     element with one element per component manager, each holding
//     px/selection (count, then one item per disabled component, its Enum
//     in item/e/value or item/value) and px/hasvalue;
//   - nmp's short form: a root element holding one element per component
//     with the disabled Enums as text, e.g.
//     <redman><neurons>3 17 300</neurons><drivers>12</drivers></redman>.
func parseRedman(r io.Reader) (*redmanData, error) {
	root, err := parseXML(r)
	if err != nil {
		return nil, err
	}
	rd := &redmanData{comps: map[string][]int{}, noValue: map[string]bool{}}
	if root.name == "boost_serialization" {
		return rd, rd.readBoost(root)
	}
	for _, c := range root.kids {
		if len(c.kids) > 0 {
			return nil, fmt.Errorf("<%s> inside <%s>: a blacklist holds one element per component, with the disabled Enums as text", c.kids[0].name, c.name)
		}
		if !redmanComponents[c.name] {
			return nil, fmt.Errorf("<%s> is not a redman component", c.name)
		}
		for _, f := range strings.FieldsFunc(c.text.String(), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' }) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("<%s>: %q is not a component Enum", c.name, f)
			}
			rd.comps[c.name] = append(rd.comps[c.name], n)
		}
	}
	return rd, nil
}

func (rd *redmanData) readBoost(root *xnode) error {
	px := root.child("data")
	if px != nil {
		px = px.child("px")
	}
	if px == nil {
		return errors.New("redman archive: no data/px element")
	}
	res := px.child("Hicann")
	if res == nil {
		res = px.child("Wafer")
	}
	if res == nil {
		res = px.child("Fpga")
	}
	if res == nil {
		return errors.New("redman archive: data/px holds no Hicann, Wafer or Fpga")
	}
	for _, c := range res.kids {
		name := c.name
		if b, ok := boostNames[name]; ok {
			name = b
		}
		if name == "Base" || name == "id" || name == "backend" {
			continue
		}
		if !redmanComponents[name] {
			return fmt.Errorf("redman archive: <%s> is not a redman component", c.name)
		}
		mgr := c.child("px")
		if mgr == nil {
			return fmt.Errorf("redman archive: <%s> has no px element", c.name)
		}
		if hv := mgr.child("hasvalue"); hv != nil && strings.TrimSpace(hv.text.String()) == "0" {
			rd.noValue[name] = true
		}
		sel := mgr.child("selection")
		if sel == nil {
			return fmt.Errorf("redman archive: <%s> has no selection", c.name)
		}
		items := 0
		for _, it := range sel.kids {
			if it.name != "item" {
				continue
			}
			items++
			v := it.child("value")
			if e := it.child("e"); e != nil {
				v = e.child("value")
			}
			if v == nil {
				return fmt.Errorf("redman archive: <%s>: an item without its Enum (e/value or value)", c.name)
			}
			n, err := strconv.Atoi(strings.TrimSpace(v.text.String()))
			if err != nil {
				return fmt.Errorf("redman archive: <%s>: %q is not a component Enum", c.name, strings.TrimSpace(v.text.String()))
			}
			rd.comps[name] = append(rd.comps[name], n)
		}
		if cnt := sel.child("count"); cnt != nil && strings.TrimSpace(cnt.text.String()) != strconv.Itoa(items) {
			return fmt.Errorf("redman archive: <%s>: count %s, but %d items", c.name, strings.TrimSpace(cnt.text.String()), items)
		}
	}
	return nil
}

// Random stream domains.
const (
	domDefects uint64 = iota + 0xb551
	domMismatch
	domSynapse
	domDistortion
	domPoisson
	domSynDefects
)
