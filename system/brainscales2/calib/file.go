package calib

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"
)

// Calibration files (docs/calibration.md) come in two encodings of one
// content, a SpikingResult:
//
//   - JSON (readable; optionally gzip-compressed): the result as it is.
//   - binary ("cocolist", the counterpart of calix's portable-binary dump
//     of a playback program): the magic "NMPCAL\x00" and a version byte,
//     a little-endian uint32 length and that many bytes of JSON holding
//     everything but the configuration's values, then one record per
//     configuration container written to the chip, in order, each a kind
//     byte (1 neuron parameter, 2 global setting), a uint16 name length,
//     the name, a uint32 count and count little-endian int16 values; a kind
//     byte 0 ends the list, followed by the CRC-32 (IEEE) of everything
//     before it.
//
// Read takes either and checks what it reads.

var binaryMagic = []byte("NMPCAL\x00\x01")

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *SpikingResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(r)
}

// WriteBinary writes r in the binary encoding.
func WriteBinary(w io.Writer, r *SpikingResult) error {
	if r.Neuron == nil || r.CADC == nil {
		return errors.New("calibration file: the result has no neuron or CADC part")
	}
	var buf bytes.Buffer
	buf.Write(binaryMagic)
	head := *r
	nr := *r.Neuron
	nr.Neurons = nil
	nr.Globals = nil
	head.Neuron = &nr
	cr := *r.CADC
	cr.RampOffset, cr.RampSlope, cr.ChannelOffset = nil, nil, nil
	head.CADC = &cr
	hj, err := json.Marshal(&head)
	if err != nil {
		return err
	}
	binary.Write(&buf, binary.LittleEndian, uint32(len(hj)))
	buf.Write(hj)
	record := func(kind byte, name string, xs []float64) error {
		buf.WriteByte(kind)
		binary.Write(&buf, binary.LittleEndian, uint16(len(name)))
		buf.WriteString(name)
		binary.Write(&buf, binary.LittleEndian, uint32(len(xs)))
		for _, x := range xs {
			if x != math.Trunc(x) || x < math.MinInt16 || x > math.MaxInt16 {
				return fmt.Errorf("calibration file: %s holds %g, not a 16-bit integer", name, x)
			}
			binary.Write(&buf, binary.LittleEndian, int16(x))
		}
		return nil
	}
	for _, g := range sortedKeys(r.Globals()) {
		if err := record(2, g, r.Globals()[g]); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(r.Neuron.Neurons) {
		if err := record(1, k, r.Neuron.Neurons[k]); err != nil {
			return err
		}
	}
	buf.WriteByte(0)
	binary.Write(&buf, binary.LittleEndian, crc32.ChecksumIEEE(buf.Bytes()))
	_, err = w.Write(buf.Bytes())
	return err
}

func sortedKeys(m map[string][]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// maxFileSize bounds what Read accepts (a calibration is about 100 kB).
const maxFileSize = 64 << 20

// Read reads a calibration file in either encoding (JSON may be gzipped)
// and checks it.
func Read(data []byte) (*SpikingResult, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("calibration file: %w", err)
		}
		plain, err := io.ReadAll(io.LimitReader(zr, maxFileSize+1))
		if err != nil {
			return nil, fmt.Errorf("calibration file: %w", err)
		}
		if len(plain) > maxFileSize {
			return nil, errors.New("calibration file: larger than 64 MiB uncompressed")
		}
		data = plain
	}
	var r *SpikingResult
	var err error
	if bytes.HasPrefix(data, binaryMagic[:7]) {
		r, err = readBinary(data)
	} else {
		r = &SpikingResult{}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if e := dec.Decode(r); e != nil {
			err = fmt.Errorf("calibration file: not a calibration (binary or JSON): %w", e)
		}
	}
	if err != nil {
		return nil, err
	}
	return r, r.check()
}

func readBinary(data []byte) (*SpikingResult, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("calibration file (binary): "+format, args...)
	}
	if len(data) < len(binaryMagic)+4+1+4 {
		return nil, bad("truncated")
	}
	if data[7] != binaryMagic[7] {
		return nil, bad("version %d; this nmp reads version %d", data[7], binaryMagic[7])
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, bad("checksum mismatch: the file is damaged")
	}
	p := body[len(binaryMagic):]
	take := func(n int) ([]byte, error) {
		if n < 0 || n > len(p) {
			return nil, bad("truncated")
		}
		b := p[:n]
		p = p[n:]
		return b, nil
	}
	hl, err := take(4)
	if err != nil {
		return nil, err
	}
	hj, err := take(int(binary.LittleEndian.Uint32(hl)))
	if err != nil {
		return nil, err
	}
	r := &SpikingResult{}
	dec := json.NewDecoder(bytes.NewReader(hj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, bad("header: %v", err)
	}
	if r.Neuron == nil || r.CADC == nil {
		return nil, bad("header has no neuron or CADC part")
	}
	r.Neuron.Neurons, r.Neuron.Globals = map[string][]float64{}, map[string][]float64{}
	for {
		kb, err := take(1)
		if err != nil {
			return nil, err
		}
		if kb[0] == 0 {
			break
		}
		if kb[0] > 2 {
			return nil, bad("unknown record kind %d", kb[0])
		}
		nl, err := take(2)
		if err != nil {
			return nil, err
		}
		name, err := take(int(binary.LittleEndian.Uint16(nl)))
		if err != nil {
			return nil, err
		}
		cb, err := take(4)
		if err != nil {
			return nil, err
		}
		cnt := int(binary.LittleEndian.Uint32(cb))
		if cnt > NumCADCChannels {
			return nil, bad("%s has %d values", name, cnt)
		}
		vb, err := take(2 * cnt)
		if err != nil {
			return nil, err
		}
		xs := make([]float64, cnt)
		for i := range xs {
			xs[i] = float64(int16(binary.LittleEndian.Uint16(vb[2*i:])))
		}
		switch kb[0] {
		case 1:
			r.Neuron.Neurons[string(name)] = xs
		case 2:
			switch string(name) {
			case "cadc_ramp_offset":
				r.CADC.RampOffset = xs
			case "cadc_ramp_slope":
				r.CADC.RampSlope = xs
			case "cadc_channel_offset":
				r.CADC.ChannelOffset = xs
			default:
				r.Neuron.Globals[string(name)] = xs
			}
		}
	}
	if len(p) != 0 {
		return nil, bad("%d bytes after the end of the records", len(p))
	}
	return r, nil
}

// check validates a result read from a file.
func (r *SpikingResult) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("calibration file: "+format, args...)
	}
	if r.Format != FileFormat {
		return bad("format %q, want %q", r.Format, FileFormat)
	}
	if r.Version != FileVersion {
		return bad("version %d; this nmp reads version %d", r.Version, FileVersion)
	}
	if r.Chip == "" {
		return bad("names no chip")
	}
	if r.CADC == nil || r.Neuron == nil {
		return bad("has no CADC or neuron part")
	}
	for name, xs := range r.CADC.Globals() {
		want := NumQuadrants
		if name == "cadc_channel_offset" {
			want = NumCADCChannels
		}
		if len(xs) != want {
			return bad("%s has %d values, want %d", name, len(xs), want)
		}
	}
	for name, xs := range r.Neuron.Globals {
		want := map[string]int{"synapse_dac_bias": NumQuadrants, "clock_scale_slow": 1, "clock_scale_fast": 1}[name]
		if want == 0 {
			return bad("unknown global setting %q", name)
		}
		if len(xs) != want {
			return bad("%s has %d values, want %d", name, len(xs), want)
		}
	}
	if len(r.Neuron.Neurons) == 0 {
		return bad("configures no neuron")
	}
	for name, xs := range r.Neuron.Neurons {
		if len(xs) != NumNeurons {
			return bad("neuron parameter %s has %d values, want 512", name, len(xs))
		}
		for i, x := range xs {
			if math.IsNaN(x) || x < 0 || x > CapMemMax {
				return bad("neuron parameter %s: %g at circuit %d is outside 0 to 1022", name, x, i)
			}
		}
	}
	if len(r.Neuron.Success) != 0 && len(r.Neuron.Success) != NumNeurons {
		return bad("success has %d entries, want 512", len(r.Neuron.Success))
	}
	return nil
}
