package compare

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"testing"
)

// frame is one recorded message: an archive holding name's JSON.
func frame(t testing.TB, name, js string) []byte {
	var z bytes.Buffer
	w := zip.NewWriter(&z)
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(js))
	w.Close()
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(z.Len()))
	b.Write(z.Bytes())
	return b.Bytes()
}

func TestReadSession(t *testing.T) {
	in := append(frame(t, "request.json", `{"op": "build"}`), frame(t, "request.json", `{"op": "run"}`)...)
	out := frame(t, "reply.json", `{"ok": true, "info": {"projection_sizes": [3, 4], "mapping": {"weights_quantised": 2}}}`)
	var r Run
	// The second request has no reply: the session was cut short there.
	if err := r.ReadSession(bytes.NewReader(in), bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	if len(r.ProjectionSizes) != 2 || r.Mapping["weights_quantised"] != 2.0 {
		t.Errorf("%+v", r)
	}
	// A header claiming more than the file holds ends the session, without
	// allocating what it claims.
	var huge bytes.Buffer
	binary.Write(&huge, binary.LittleEndian, uint64(3<<30))
	if err := new(Run).ReadSession(bytes.NewReader(huge.Bytes()), bytes.NewReader(out)); err != nil {
		t.Errorf("a cut message: %v", err)
	}
}

// FuzzReadSession: a recording is a job's output, so anything: reading it
// returns an error or nothing, never panics.
func FuzzReadSession(f *testing.F) {
	f.Add(frame(f, "request.json", `{"op": "build"}`), frame(f, "reply.json", `{"ok": true, "info": {"mapping": {"changes": [{"what": "weights"}]}}}`))
	f.Add(frame(f, "request.json", `{"op": "data"}`), frame(f, "reply.json", `{"ok": true}`))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 7}, []byte{})
	f.Fuzz(func(t *testing.T, in, out []byte) {
		var r Run
		_ = r.ReadSession(bytes.NewReader(in), bytes.NewReader(out))
		_ = Compare([]*Run{{Platform: "ref"}, &r}, 5).Text()
	})
}
