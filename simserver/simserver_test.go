package simserver

import (
	_ "github.com/nmp-platform/nmp/system/reference"

	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/npy"
)

// client speaks the protocol to a session served over pipes.
type client struct {
	t    *testing.T
	w    io.Writer
	r    io.Reader
	done chan error
}

func start(t *testing.T) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, w: inW, r: outR, done: make(chan error, 1)}
	go func() {
		c.done <- Serve(context.Background(), inR, outW, Options{Threads: 2, System: "reference"})
		outW.Close()
	}()
	return c
}

func (c *client) send(req map[string]any, members map[string][]byte, arrays map[string][]float64) (Reply, map[string]*npy.Array, map[string][]byte) {
	c.t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	js, _ := json.Marshal(req)
	f, _ := zw.Create("request.json")
	f.Write(js)
	for name, b := range members {
		f, _ := zw.Create(name)
		f.Write(b)
	}
	for name, xs := range arrays {
		f, _ := zw.Create(name + ".npy")
		npy.WriteFloat64(f, xs, nil)
	}
	zw.Close()
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(buf.Len()))
	c.w.Write(hdr[:])
	c.w.Write(buf.Bytes())
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	body := make([]byte, binary.LittleEndian.Uint64(hdr[:]))
	if _, err := io.ReadFull(c.r, body); err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	arr, other, err := npy.ReadArchive(bytes.NewReader(body), int64(len(body)), 0)
	if err != nil {
		c.t.Fatal(err)
	}
	var reply Reply
	if err := json.Unmarshal(other["reply.json"], &reply); err != nil {
		c.t.Fatal(err)
	}
	return reply, arr, other
}

const net = `{"format":"nmp-network","version":1,"simulation":{"timestep":0.1,"seed":5},
 "populations":[{"label":"src","size":2,"cell_type":"SpikeSourceArray","parameters":{"spike_times":[[1,2],[3]]}},
                {"label":"cells","size":3,"cell_type":"IF_curr_exp"}],
 "projections":[{"pre":[{"population":0}],"post":[{"population":1}],"synapse":{"type":"StaticSynapse","parameters":{"weight":0.5,"delay":1}},
                 "connector":{"type":"AllToAllConnector"}}],
 "recordings":[{"selection":[{"population":1}],"variables":["v"]}]}`

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	c := start(t)
	if r, _, _ := c.send(map[string]any{"op": "run"}, nil, nil); r.OK || !strings.Contains(r.Error, `op "run" before build`) {
		t.Errorf("op before build: %+v", r)
	}
	r, _, _ := c.send(map[string]any{"op": "build"}, map[string][]byte{"network.json": []byte(net)}, nil)
	if !r.OK || r.Info["neurons"].(float64) != 5 {
		t.Fatalf("build: %+v", r)
	}
	r, _, _ = c.send(map[string]any{"op": "action", "action": map[string]any{"run": 10}}, nil, nil)
	if !r.OK || r.Time != 10 {
		t.Fatalf("run: %+v", r)
	}
	// Weights set from an array member, read back in connection order.
	r, _, _ = c.send(map[string]any{"op": "action", "action": map[string]any{"set_synapses": map[string]any{"projection": 0,
		"parameters": map[string]any{"weight": map[string]any{"array": "w"}}}}}, nil, map[string][]float64{"w": {1, 2, 3, 4, 5, 6}})
	if !r.OK {
		t.Fatalf("set_synapses: %+v", r)
	}
	r, arr, _ := c.send(map[string]any{"op": "synapses", "projection": 0, "names": []string{"weight", "delay"}}, nil, nil)
	if !r.OK || arr["weight"].Float(5) != 6 || arr["delay"].Float(0) != 1 {
		t.Errorf("synapses: %+v", r)
	}
	r, arr, _ = c.send(map[string]any{"op": "connections", "projection": 0}, nil, nil)
	if !r.OK || arr["pre"].Len() != 6 || arr["post"].Int(4) != 1 || !arr["pre"].IsInt() {
		t.Errorf("connections: %+v %v", r, arr["post"])
	}
	// Errors name the problem and leave the session usable.
	r, _, _ = c.send(map[string]any{"op": "action", "action": map[string]any{"set": map[string]any{
		"selection": []any{map[string]any{"population": 1}}, "parameters": map[string]any{"tau_m": -1}}}}, nil, nil)
	if r.OK || !strings.Contains(r.Error, "tau_m: must be positive") {
		t.Errorf("bad set: %+v", r)
	}
	r, _, other := c.send(map[string]any{"op": "data", "clear": true}, nil, nil)
	if !r.OK || len(other["results.npz"]) == 0 {
		t.Fatalf("data: %+v", r)
	}
	res, _, err := npy.ReadArchive(bytes.NewReader(other["results.npz"]), int64(len(other["results.npz"])), 0)
	if err != nil {
		t.Fatal(err)
	}
	if v := res["seg0/sig0.v"]; v == nil || v.Shape[0] != 101 || v.Shape[1] != 3 {
		t.Errorf("recorded v: %+v", v)
	}
	if r, _, _ := c.send(map[string]any{"op": "state", "population": 1, "names": []string{"v", "nope"}}, nil, nil); r.OK || !strings.Contains(r.Error, `no variable "nope"`) {
		t.Errorf("state of an unknown variable: %+v", r)
	}
	if r, _, _ := c.send(map[string]any{"op": "end"}, nil, nil); !r.OK {
		t.Errorf("end: %+v", r)
	}
	if err := <-c.done; err != nil {
		t.Errorf("Serve returned %v", err)
	}
}

func TestSessionBadBuildIsAReply(t *testing.T) {
	t.Parallel()
	c := start(t)
	r, _, _ := c.send(map[string]any{"op": "build"}, map[string][]byte{"network.json": []byte(strings.Replace(net, "IF_curr_exp", "IF_curr_expp", 1))}, nil)
	if r.OK || !strings.Contains(r.Error, `unknown cell type "IF_curr_expp"`) {
		t.Errorf("bad build: %+v", r)
	}
	r, _, _ = c.send(map[string]any{"op": "build"}, map[string][]byte{"network.json": []byte(net)}, nil)
	if !r.OK {
		t.Errorf("a good build after a bad one: %+v", r)
	}
	c.send(map[string]any{"op": "end"}, nil, nil)
	<-c.done
}
