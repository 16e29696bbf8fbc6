package compare

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxFrame bounds one recorded message.
const maxFrame = 4 << 30

// ReadSession reads one recorded simulation server session (what nmp
// simserver read, in, and wrote, out, under NMP_SIMSERVER_RECORD) into r,
// pairing each request with its reply. A session cut short (the script
// died) ends at its last whole pair.
func (r *Run) ReadSession(in, out io.Reader) error {
	ri, ro := bufio.NewReader(in), bufio.NewReader(out)
	for {
		req, err := readFrame(ri)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rep, err := readFrame(ro)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := r.Add(req, rep); err != nil {
			return err
		}
	}
}

// readFrame reads one message: its length (8 bytes, little-endian) and
// its bytes. A message cut short is the end of the session (io.EOF).
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, io.EOF
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint64(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("a message of %d bytes", n)
	}
	// Read what is there rather than allocate what the header claims: a
	// recording is a job's output, and a job may write anything.
	buf, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil || uint64(len(buf)) != n {
		return nil, io.EOF
	}
	return buf, nil
}
