package spinnaker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// The SpiNNaker-1 machine: chips of 18 ARM968 cores at 200 MHz (one runs
// SC&MP, the monitor), each core with 64 KiB DTCM and 32 KiB ITCM, 128 MB
// of SDRAM per chip of which 123,469,792 bytes are usable, a multicast
// router of 1024 entries (one taken by the system), and six links to the
// neighbouring chips on a triangular mesh. Facts: SpiNNMachine's
// version_spin1.py, version_3.py, version_5.py and spinnaker_tools'
// headers (see docs/spinnaker.md).
const (
	coresPerChip       = 18
	monitorCores       = 1
	clockHz            = 200e6
	dtcmBytes          = 64 * 1024
	itcmBytes          = 32 * 1024
	sdramPerChip       = 123469792
	routerEntries      = 1023
	linksPerChip       = 6
	chipsPerBoard48    = 48
	boardWidth48       = 8
	triadSize          = 12
	maxAtomsPerCoreDef = 256
)

// Link directions, as SpiNNaker numbers them: east, north-east, north,
// west, south-west, south.
var linkDX = [linksPerChip]int{1, 1, 0, -1, -1, 0}
var linkDY = [linksPerChip]int{0, 1, 1, 0, -1, -1}

// Chip is one chip of a machine.
type Chip struct {
	X, Y int
	// Cores is the number of working cores, the monitor included.
	Cores int
	// DeadCores are cores (by number) that are not used.
	DeadCores []int
	// Links says which of the six links work.
	Links    [linksPerChip]bool
	SDRAM    int
	Router   int // multicast entries for applications
	Ethernet bool
	// Board is the index of the board (its Ethernet chip) the chip is on.
	Board int
}

// AppCores is the number of cores left for applications.
func (c *Chip) AppCores() int { return c.Cores - monitorCores - len(c.DeadCores) }

// Machine is a SpiNNaker machine (or the part of one a job was given).
type Machine struct {
	// Version is the board version (3: four chips, 5: 48 chips).
	Version       int
	Width, Height int
	// Wrap says whether the machine's edges are joined (a torus).
	Wrap   bool
	chips  []*Chip // x*Height+y; nil where there is no chip
	Boards [][2]int
}

// Chip returns the chip at (x, y), or nil.
func (m *Machine) Chip(x, y int) *Chip {
	if x < 0 || y < 0 || x >= m.Width || y >= m.Height {
		return nil
	}
	return m.chips[x*m.Height+y]
}

// Chips returns the machine's chips, ordered by board, then x, then y.
func (m *Machine) Chips() []*Chip {
	var out []*Chip
	for _, c := range m.chips {
		if c != nil {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Board != out[j].Board {
			return out[i].Board < out[j].Board
		}
		if out[i].X != out[j].X {
			return out[i].X < out[j].X
		}
		return out[i].Y < out[j].Y
	})
	return out
}

// Neighbour returns the chip a link of c leads to, or nil when the link is
// dead, leaves the machine or ends at a missing chip.
func (m *Machine) Neighbour(c *Chip, dir int) *Chip {
	if !c.Links[dir] {
		return nil
	}
	x, y := c.X+linkDX[dir], c.Y+linkDY[dir]
	if m.Wrap {
		x, y = (x+m.Width)%m.Width, (y+m.Height)%m.Height
	}
	n := m.Chip(x, y)
	if n == nil || !n.Links[(dir+3)%6] {
		return nil
	}
	return n
}

// AppCores is the number of application cores of the machine.
func (m *Machine) AppCores() int {
	n := 0
	for _, c := range m.chips {
		if c != nil {
			n += c.AppCores()
		}
	}
	return n
}

func (m *Machine) addChip(x, y, cores, board int, eth bool) {
	c := &Chip{X: x, Y: y, Cores: cores, SDRAM: sdramPerChip, Router: routerEntries, Ethernet: eth, Board: board}
	for d := range c.Links {
		c.Links[d] = true
	}
	m.chips[x*m.Height+y] = c
}

// The 48-chip board: rows of its hexagon in its 8×8 box (x from, x to).
var board48Rows = [boardWidth48][2]int{{0, 4}, {0, 5}, {0, 6}, {0, 7}, {1, 7}, {2, 7}, {3, 7}, {4, 7}}

// The chips of the 48-chip board with 17 cores (version_48_chips.py).
var chips17 = map[[2]int]bool{{1, 1}: true, {1, 3}: true, {3, 1}: true, {3, 3}: true, {3, 5}: true, {5, 2}: true, {5, 4}: true, {5, 6}: true}

// NewBoard returns a single board: version 3 (2×2 chips of 18 cores,
// wrapped) or 5 (the 48-chip board, not wrapped).
func NewBoard(version int) (*Machine, error) {
	switch version {
	case 3, 2:
		m := &Machine{Version: 3, Width: 2, Height: 2, Wrap: true, chips: make([]*Chip, 4), Boards: [][2]int{{0, 0}}}
		for x := 0; x < 2; x++ {
			for y := 0; y < 2; y++ {
				m.addChip(x, y, coresPerChip, 0, x == 0 && y == 0)
			}
		}
		return m, nil
	case 5, 4:
		return NewMachine(1)
	}
	return nil, fmt.Errorf("version %d: nmp emulates SpiNNaker-1 boards of version 3 (4 chips) and 5 (48 chips)", version)
}

// NewMachine returns a machine of n 48-chip boards as spalloc allocates
// them: one board alone is 8×8 (not wrapped); more are whole triads of
// three boards, ceil(n/3) triads in a w×h rectangle (w = ceil(√triads),
// h = ceil(triads/w)), (12w+4)×(12h+4) chips without wrap-around.
func NewMachine(boards int) (*Machine, error) {
	if boards < 1 {
		return nil, fmt.Errorf("a machine needs at least one board, not %d", boards)
	}
	if boards > 1200 {
		return nil, fmt.Errorf("%d boards: the largest SpiNNaker-1 machine has 1200", boards)
	}
	if boards == 1 {
		m := &Machine{Version: 5, Width: boardWidth48, Height: boardWidth48, chips: make([]*Chip, 64), Boards: [][2]int{{0, 0}}}
		m.addBoard(0, 0, 0)
		return m, nil
	}
	triads := (boards + 2) / 3
	w := int(math.Ceil(math.Sqrt(float64(triads))))
	h := (triads + w - 1) / w
	m := &Machine{Version: 5, Width: triadSize*w + 4, Height: triadSize*h + 4}
	m.chips = make([]*Chip, m.Width*m.Height)
	for tx := 0; tx < w; tx++ {
		for ty := 0; ty < h; ty++ {
			for _, off := range [][2]int{{0, 0}, {4, 8}, {8, 4}} {
				m.Boards = append(m.Boards, [2]int{tx*triadSize + off[0], ty*triadSize + off[1]})
			}
		}
	}
	for b, o := range m.Boards {
		m.addBoard(o[0], o[1], b)
	}
	return m, nil
}

func (m *Machine) addBoard(x0, y0, board int) {
	for dy, r := range board48Rows {
		for dx := r[0]; dx <= r[1]; dx++ {
			cores := coresPerChip
			if chips17[[2]int{dx, dy}] {
				cores = 17
			}
			m.addChip(x0+dx, y0+dy, cores, board, dx == 0 && dy == 0)
		}
	}
}

// MachineFile describes a machine and its faults, as a JSON file (the
// `machine` system option): a board version or a number of 48-chip
// boards, and the chips, cores and links that do not work.
type MachineFile struct {
	Version   int      `json:"version,omitempty"`
	Boards    int      `json:"boards,omitempty"`
	DeadChips [][2]int `json:"dead_chips,omitempty"`
	DeadCores [][3]int `json:"dead_cores,omitempty"`
	// DeadLinks are [x, y, link] with link 0..5 (E, NE, N, W, SW, S).
	DeadLinks [][3]int `json:"dead_links,omitempty"`
	// RouterEntries, when set, limits every router's application entries.
	RouterEntries int `json:"router_entries,omitempty"`
}

// ParseMachineFile reads a machine description.
func ParseMachineFile(data []byte) (*MachineFile, error) {
	var f MachineFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("machine description: %w", err)
	}
	if f.Version != 0 && f.Boards != 0 && f.Version != 5 {
		return nil, fmt.Errorf("machine description: boards: multi-board machines are made of version 5 boards, not version %d", f.Version)
	}
	if f.Boards < 0 || f.Boards > 1200 {
		return nil, fmt.Errorf("machine description: boards: %d is outside 1..1200", f.Boards)
	}
	if f.RouterEntries < 0 || f.RouterEntries > routerEntries {
		return nil, fmt.Errorf("machine description: router_entries: %d is outside 0..%d", f.RouterEntries, routerEntries)
	}
	return &f, nil
}

// Build makes the machine the file describes (boards, when the file gives
// none) with its faults applied.
func (f *MachineFile) Build(boards int) (*Machine, error) {
	var m *Machine
	var err error
	switch {
	case f.Boards > 0:
		m, err = NewMachine(f.Boards)
	case f.Version != 0:
		m, err = NewBoard(f.Version)
	default:
		m, err = NewMachine(boards)
	}
	if err != nil {
		return nil, err
	}
	return m, f.apply(m)
}

func (f *MachineFile) apply(m *Machine) error {
	for _, xy := range f.DeadChips {
		if m.Chip(xy[0], xy[1]) == nil {
			return fmt.Errorf("machine description: dead_chips: there is no chip (%d, %d)", xy[0], xy[1])
		}
		m.chips[xy[0]*m.Height+xy[1]] = nil
	}
	for _, c := range f.DeadCores {
		ch := m.Chip(c[0], c[1])
		if ch == nil {
			return fmt.Errorf("machine description: dead_cores: there is no chip (%d, %d)", c[0], c[1])
		}
		if c[2] <= 0 || c[2] >= ch.Cores {
			return fmt.Errorf("machine description: dead_cores: chip (%d, %d) has application cores 1..%d, not %d", c[0], c[1], ch.Cores-1, c[2])
		}
		ch.DeadCores = append(ch.DeadCores, c[2])
	}
	for _, l := range f.DeadLinks {
		ch := m.Chip(l[0], l[1])
		if ch == nil {
			return fmt.Errorf("machine description: dead_links: there is no chip (%d, %d)", l[0], l[1])
		}
		if l[2] < 0 || l[2] >= linksPerChip {
			return fmt.Errorf("machine description: dead_links: link %d of chip (%d, %d) is not one of 0..5 (E, NE, N, W, SW, S)", l[2], l[0], l[1])
		}
		ch.Links[l[2]] = false
	}
	if f.RouterEntries > 0 {
		for _, c := range m.chips {
			if c != nil {
				c.Router = f.RouterEntries
			}
		}
	}
	return nil
}

// describe is the machine for provenance.
func (m *Machine) describe() map[string]any {
	chips, cores := 0, 0
	for _, c := range m.chips {
		if c != nil {
			chips++
			cores += c.AppCores()
		}
	}
	return map[string]any{"version": m.Version, "width": m.Width, "height": m.Height, "wrap": m.Wrap,
		"boards": len(m.Boards), "chips": chips, "application_cores": cores}
}
