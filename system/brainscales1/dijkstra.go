package brainscales1

import (
	"container/heap"
	"sort"
)

// The Dijkstra L1 router (marocco's l1_routing.algorithm(dijkstra)): for
// each output, shortest paths over the wafer's buses from its sending
// repeater to every HICANN its targets are on, as one tree. The graph has
// three nodes per HICANN: its horizontal buses (reached from the east and
// west neighbours' horizontal buses) and its left and right vertical buses
// (reached from the north and south neighbours' vertical buses of that
// side); a crossbar switch joins a HICANN's horizontal and vertical buses
// both ways, so a route turns as often as it needs to pass a defect or
// full HICANN. A route arrives on a vertical bus, whose side sets the
// synapse drivers it reaches. Entering a node takes one bus of its kind
// there; its cost is 1 plus the share of those buses already taken, so
// that routes spread over the wafer (marocco's edge weights from vertex
// weights, with vertex weights from the utilisation). Targets no path
// reaches lose their synapses in L1 routing.

const (
	nodeH = iota
	nodeVLeft
	nodeVRight
	nodeKinds
)

type dnode struct {
	cost float64
	id   int32
}

type dheap []dnode

func (h dheap) Len() int { return len(h) }
func (h dheap) Less(i, j int) bool {
	if h[i].cost != h[j].cost {
		return h[i].cost < h[j].cost
	}
	return h[i].id < h[j].id
}
func (h dheap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dheap) Push(x any)   { *h = append(*h, x.(dnode)) }
func (h *dheap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// dijkstraScratch is reused by every route.
type dijkstraScratch struct {
	dist [numHICANNs * nodeKinds]float64
	prev [numHICANNs * nodeKinds]int32
	done [numHICANNs * nodeKinds]bool
	q    dheap
}

// free reports whether node id can take one more bus, and its cost.
func (m *mapper) nodeCost(id int32) (float64, bool) {
	h, k := int(id)/nodeKinds, int(id)%nodeKinds
	if k == nodeH {
		if !m.hFree(h) {
			return 0, false
		}
		return 1 + float64(m.net.hUsed[h])/float64(numHLines), true
	}
	s := k - nodeVLeft
	if !m.vFree(h, s) {
		return 0, false
	}
	return 1 + float64(m.net.vUsed[h][s])/float64(vlinesPerSide), true
}

// neighbours lists the nodes reachable from id in one step.
func neighbours(id int32, out []int32) []int32 {
	h, k := int(id)/nodeKinds, int(id)%nodeKinds
	x, y := hicannXY[h][0], hicannXY[h][1]
	out = out[:0]
	if k == nodeH {
		for _, dx := range [2]int{1, -1} {
			if n := enumOf(x+dx, y); n >= 0 {
				out = append(out, int32(n*nodeKinds+nodeH))
			}
		}
		out = append(out, int32(h*nodeKinds+nodeVLeft), int32(h*nodeKinds+nodeVRight))
		return out
	}
	for _, dy := range [2]int{1, -1} {
		if n := enumOf(x, y+dy); n >= 0 {
			out = append(out, int32(n*nodeKinds+k))
		}
	}
	return append(out, int32(h*nodeKinds+nodeH))
}

// routeDijkstra routes every output with targets, in output order.
func (m *mapper) routeDijkstra(targets map[int32][]int) {
	ids := make([]int32, 0, len(targets))
	for r := range targets {
		ids = append(ids, r)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	sc := new(dijkstraScratch)
	var nb []int32
	for _, r := range ids {
		src := int(m.routes[r].hicann)
		ts := targets[r]
		start := int32(src*nodeKinds + nodeH)
		if _, ok := m.nodeCost(start); !ok {
			m.net.failed += len(ts)
			continue
		}
		for i := range sc.dist {
			sc.dist[i], sc.prev[i], sc.done[i] = -1, -1, false
		}
		want := map[int]bool{}
		for _, t := range ts {
			want[t] = true
		}
		left := len(want)
		sc.q = sc.q[:0]
		sc.dist[start] = 0
		heap.Push(&sc.q, dnode{0, start})
		for sc.q.Len() > 0 && left > 0 {
			cur := heap.Pop(&sc.q).(dnode)
			if sc.done[cur.id] {
				continue
			}
			sc.done[cur.id] = true
			if h := int(cur.id) / nodeKinds; int(cur.id)%nodeKinds != nodeH && want[h] {
				want[h] = false
				left--
			}
			nb = neighbours(cur.id, nb)
			for _, n := range nb {
				if sc.done[n] {
					continue
				}
				c, ok := m.nodeCost(n)
				if !ok {
					continue
				}
				if d := cur.cost + c; sc.dist[n] < 0 || d < sc.dist[n] {
					sc.dist[n], sc.prev[n] = d, cur.id
					heap.Push(&sc.q, dnode{d, n})
				}
			}
		}
		// the tree: each target's cheaper vertical node, back to the source;
		// a node shared by several targets takes its bus once
		taken := map[int32]int16{}
		take := func(id int32) int16 {
			if v, ok := taken[id]; ok {
				return v
			}
			h, k := int(id)/nodeKinds, int(id)%nodeKinds
			var v int16 = -1
			if k == nodeH {
				m.net.hUsed[h]++
			} else {
				s := k - nodeVLeft
				v = int16(s*vlinesPerSide + m.net.vUsed[h][s])
				m.net.vUsed[h][s]++
			}
			taken[id] = v
			return v
		}
		for _, t := range sortedUnique(ts) {
			best := int32(-1)
			for _, k := range [2]int32{nodeVLeft, nodeVRight} {
				id := int32(t)*nodeKinds + k
				if sc.done[id] && (best < 0 || sc.dist[id] < sc.dist[best]) {
					best = id
				}
			}
			if best < 0 {
				m.net.failed++
				continue
			}
			for id := best; id >= 0; id = sc.prev[id] {
				take(id)
			}
			v := taken[best]
			m.net.at[t] = append(m.net.at[t], arrival{route: r, side: int8(int(best)%nodeKinds - nodeVLeft), vline: v})
		}
	}
}
