package brainscales1

import (
	"fmt"
	"sort"
)

// The wafer's geometry (halco's HICANNOnWafer grid).
const (
	numHICANNs      = 384
	gridX           = 36
	gridY           = 16
	numReticles     = 48
	hicannsPerRet   = 8
	denmemsPerRow   = 256 // NeuronOnHICANN X 0..255, Y top/bottom
	numDenmems      = 2 * denmemsPerRow
	numBlocks       = 8
	columnsPerBlock = denmemsPerRow / numBlocks // 32
	rowsPerArray    = 224
	numRows         = 2 * rowsPerArray // SynapseRowOnHICANN 0..447
	numDrivers      = 224
	driversPerSide  = numDrivers / 2 // 112
	driversPerQuad  = driversPerSide / 2
	numHLines       = 64
	numVLines       = 256
	vlinesPerSide   = numVLines / 2
	numDNCMergers   = 8
	// l1Addresses is the usable L1 addresses per DNC merger: 64, less
	// address 0 (repeater locking) and the four 0bXX0001 (disabled synapses).
	l1Addresses = 59
	maxChain    = driversPerQuad // driver_chain_length's upper bound
	speedup     = 1e4
)

// rowRange gives, per grid row y, the first and last x of the round wafer.
var rowRange = [gridY][2]int{
	{12, 23}, {12, 23}, {8, 27}, {8, 27}, {4, 31}, {4, 31},
	{0, 35}, {0, 35}, {0, 35}, {0, 35},
	{4, 31}, {4, 31}, {8, 27}, {8, 27}, {12, 23}, {12, 23},
}

// hicannXY and hicannEnum convert between the grid and the Enum, counted
// row by row from the top, left to right.
var hicannXY, hicannEnum = func() (xy [numHICANNs][2]int, en [gridX][gridY]int) {
	for x := range en {
		for y := range en[x] {
			en[x][y] = -1
		}
	}
	e := 0
	for y := 0; y < gridY; y++ {
		for x := rowRange[y][0]; x <= rowRange[y][1]; x++ {
			xy[e] = [2]int{x, y}
			en[x][y] = e
			e++
		}
	}
	if e != numHICANNs {
		panic("brainscales1: wafer grid has " + fmt.Sprint(e) + " HICANNs")
	}
	return xy, en
}()

// enumOf returns the Enum of the HICANN at (x, y), or -1 off the wafer.
func enumOf(x, y int) int {
	if x < 0 || x >= gridX || y < 0 || y >= gridY {
		return -1
	}
	return hicannEnum[x][y]
}

// reticleOf returns the reticle (DNCOnWafer enum, and the FPGA serving it)
// of a HICANN: reticles are 4 x 2 HICANNs, enumerated row by row as halco's
// DNCOnWafer grid.
func reticleOf(h int) int { return reticleEnum[hicannXY[h][0]/4][hicannXY[h][1]/2] }

var reticleEnum = func() (r [9][8]int) {
	e := 0
	for y := 0; y < 8; y++ {
		for x := 0; x < 9; x++ {
			r[x][y] = -1
			if enumOf(4*x, 2*y) >= 0 || enumOf(4*x+3, 2*y) >= 0 {
				r[x][y] = e
				e++
			}
		}
	}
	if e != numReticles {
		panic("brainscales1: wafer has " + fmt.Sprint(e) + " reticles")
	}
	return r
}()

// hicannName prints a HICANN as halco does.
func hicannName(h int) string {
	return fmt.Sprintf("HICANNOnWafer(X(%d), Y(%d))", hicannXY[h][0], hicannXY[h][1])
}

// hicannOrder is the default placement's order of HICANNs: from the wafer's
// centre, HICANNOnWafer(X(18), Y(7)), outwards (by distance, then Enum).
var hicannOrder = func() []int {
	o := make([]int, numHICANNs)
	for i := range o {
		o[i] = i
	}
	dist := func(h int) int {
		dx, dy := hicannXY[h][0]-18, hicannXY[h][1]-7
		return dx*dx + 4*dy*dy // a HICANN is about twice as tall as wide
	}
	sort.Slice(o, func(i, j int) bool {
		a, b := o[i], o[j]
		da, db := dist(a), dist(b)
		if da != db {
			return da < db
		}
		return a < b
	})
	return o
}()
