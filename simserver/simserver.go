// Package simserver serves a live simulation over a byte stream (the simulation
// server protocol): how front ends (the PyNN backends) build a network, run it,
// change it between runs and read back results, without writing files.
//
// Each message, in both directions, is an 8-byte little-endian length
// followed by that many bytes of a zip archive in numpy's .npz layout: a JSON
// member (request.json or reply.json) and .npy members for arrays, which the
// JSON references as {"array": NAME}. The protocol is documented in
// docs/simserver.md.
package simserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/buildinfo"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/npy"
	"github.com/nmp-platform/nmp/results"
	"github.com/nmp-platform/nmp/system"
)

// MaxMessage bounds a message's size.
const MaxMessage = 1 << 40

// Request is the JSON part of a request.
type Request struct {
	Op string `json:"op"`
	// Action is the schedule action of op "action" (run, reset, set, ...).
	Action json.RawMessage `json:"action,omitempty"`
	// Projection, Population and Names select what op "connections",
	// "synapses" and "state" read.
	Projection int      `json:"projection,omitempty"`
	Population int      `json:"population,omitempty"`
	Names      []string `json:"names,omitempty"`
	// Clear makes op "data" forget what it returns.
	Clear bool `json:"clear,omitempty"`
	// Threads for op "build".
	Threads int `json:"threads,omitempty"`
}

// Reply is the JSON part of a reply.
type Reply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Time is the simulation time after the request, in ms.
	Time   float64           `json:"t"`
	Arrays map[string]string `json:"arrays,omitempty"`
	Info   map[string]any    `json:"info,omitempty"`
}

// Options configure a session.
type Options struct {
	Threads int
	// System names the system to run on; empty or "reference" lets each
	// description choose (the reference when it names none).
	System string
}

// Serve answers requests from r on w until op "end", the end of r, or ctx.
func Serve(ctx context.Context, r io.Reader, w io.Writer, opts Options) error {
	s := &server{opts: opts}
	for {
		msg, err := readMessage(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		reply, members := s.handle(ctx, msg)
		if err := writeMessage(w, reply, members); err != nil {
			return err
		}
		if s.ended {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

type server struct {
	opts  Options
	run   *system.Run
	sim   *engine.Simulator // run's, for the reads
	ended bool
}

// member is an archive member of a reply.
type member struct {
	name  string
	f64   []float64
	i32   []int32
	isInt bool
	raw   []byte
	// shape, when the array is not one-dimensional
	shape []int
}

func (s *server) handle(ctx context.Context, msg []byte) (reply Reply, members []member) {
	defer func() {
		// A bug must not take the user's Python process down with a broken
		// pipe: report it as an error of this request.
		if p := recover(); p != nil {
			reply, members = fail(fmt.Errorf("internal error in nmp (please report it): %v", p)), nil
		}
	}()
	arrays, other, err := npy.ReadArchive(bytes.NewReader(msg), int64(len(msg)), network.DefaultMaxBytes)
	if err != nil {
		return fail(err), nil
	}
	var req Request
	if err := json.Unmarshal(other["request.json"], &req); err != nil {
		return fail(fmt.Errorf("request.json: %w", err)), nil
	}
	reply, members, err = s.do(ctx, &req, arrays, other)
	if err != nil {
		r := fail(err)
		if s.sim != nil {
			r.Time = s.sim.Now()
		}
		return r, nil
	}
	reply.OK = true
	if s.sim != nil {
		reply.Time = s.sim.Now()
	}
	return reply, members
}

func fail(err error) Reply { return Reply{OK: false, Error: err.Error()} }

func (s *server) do(ctx context.Context, req *Request, arrays map[string]*npy.Array, other map[string][]byte) (Reply, []member, error) {
	if req.Op != "build" && req.Op != "end" && req.Op != "version" && s.sim == nil {
		return Reply{}, nil, fmt.Errorf("op %q before build", req.Op)
	}
	switch req.Op {
	case "version":
		return Reply{Info: map[string]any{"version": buildinfo.Version(), "protocol": 1}}, nil, nil
	case "build":
		js, ok := other[network.DocumentName]
		if !ok {
			return Reply{}, nil, errors.New("build needs a network.json member")
		}
		d, err := network.DecodeJSON(js, arrays)
		if err != nil {
			return Reply{}, nil, err
		}
		threads := req.Threads
		if threads == 0 {
			threads = s.opts.Threads
		}
		override := s.opts.System
		if override == "reference" {
			override = "" // the default: let the description name its system
		}
		sys, err := system.For(d, override)
		if err != nil {
			return Reply{}, nil, err
		}
		t0 := time.Now()
		run, err := system.NewRun(ctx, sys, d, system.RunOptions{Threads: threads})
		if err != nil {
			return Reply{}, nil, err
		}
		s.run, s.sim = run, run.Simulator()
		sizes := make([]int, len(d.Projections))
		for i := range sizes {
			sizes[i], _ = s.sim.ProjectionSize(i)
		}
		return Reply{Info: map[string]any{"neurons": s.sim.Neurons(), "projection_sizes": sizes, "threads": s.sim.Threads(),
			"build_s": time.Since(t0).Seconds(), "system": sys.Name(), "mapping": run.Plan().Info}}, nil, nil
	case "action":
		a, err := network.DecodeAction(req.Action, arrays)
		if err != nil {
			return Reply{}, nil, err
		}
		t0 := time.Now()
		if err := s.run.Apply(ctx, a); err != nil {
			return Reply{}, nil, err
		}
		// The mapping's counters (e.g. a chip's crossbar events) change with
		// every run; front ends answer get_mapping() from this.
		return Reply{Info: map[string]any{"wall_s": time.Since(t0).Seconds(), "mapping": s.run.Plan().Info}}, nil, nil
	case "data":
		segs, err := s.run.Data(req.Clear)
		if err != nil {
			return Reply{}, nil, err
		}
		var buf bytes.Buffer
		if err := results.Write(&buf, s.run.Description(), segs, s.run.Provenance()); err != nil {
			return Reply{}, nil, err
		}
		return Reply{}, []member{{name: "results.npz", raw: buf.Bytes()}}, nil
	case "connections":
		pre, post, err := s.sim.Connections(req.Projection)
		if err != nil {
			return Reply{}, nil, err
		}
		return Reply{Arrays: map[string]string{"pre": "pre", "post": "post"}},
			[]member{{name: "pre", i32: pre, isInt: true}, {name: "post", i32: post, isInt: true}}, nil
	case "synapses":
		var ms []member
		names := map[string]string{}
		for _, n := range req.Names {
			vals, err := s.sim.SynapseValues(req.Projection, n)
			if err != nil {
				return Reply{}, nil, err
			}
			ms = append(ms, member{name: n, f64: vals})
			names[n] = n
		}
		return Reply{Arrays: names}, ms, nil
	case "state":
		var ms []member
		names := map[string]string{}
		for _, n := range req.Names {
			vals, err := s.sim.StateOf(req.Population, n)
			if err != nil {
				return Reply{}, nil, err
			}
			ms = append(ms, member{name: n, f64: append([]float64(nil), vals...)})
			names[n] = n
		}
		return Reply{Arrays: names}, ms, nil
	case "end":
		s.ended = true
		return Reply{}, nil, nil
	}
	return Reply{}, nil, fmt.Errorf("unknown op %q", req.Op)
}

func readMessage(r io.Reader) ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("truncated message header")
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint64(hdr[:])
	if n > MaxMessage || n > math.MaxInt64 {
		return nil, fmt.Errorf("message of %d bytes is too large", n)
	}
	if avail := network.MemAvailable(); avail > 0 && int64(n) > avail {
		return nil, fmt.Errorf("message of %d bytes exceeds the available memory", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("truncated message: %w", err)
	}
	return buf, nil
}

func writeMessage(w io.Writer, reply Reply, members []member) error {
	var buf bytes.Buffer
	zw := npy.NewWriter(&buf)
	for _, m := range members {
		var err error
		switch {
		case m.raw != nil:
			var f io.Writer
			if f, err = zw.Create(m.name, false); err == nil {
				_, err = f.Write(m.raw)
			}
		case m.isInt:
			err = zw.Int32(m.name, m.i32, m.shape)
		default:
			err = zw.Float64(m.name, m.f64, m.shape)
		}
		if err != nil {
			return err
		}
	}
	f, err := zw.Create("reply.json", false)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(f).Encode(reply); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], uint64(buf.Len()))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}
