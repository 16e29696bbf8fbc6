package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// Calibrations of emulated chips (docs/calibration.md): the server asks for
// them (queue.CalibrationScheduler every night, CalibrateNewChip for a chip
// new to it, an administrator with POST /calibrations); a worker serving
// the chip claims one (POST /calibrations/next), runs it, uploads its files
// and finishes it; the server keeps finished ones as versioned artefacts in
// DATA-DIR/calibrations/<chip>/<id>/ and serves them.

// calibrationFileName is what a calibration's files may be called: a
// preset's calix-style cocolist in binary or JSON.
var calibrationFileName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}_cocolist\.(pbin|json)$`)

// maxCalibrationFiles bounds the files of one calibration.
const maxCalibrationFiles = 32

// maxCalibrationFileBytes bounds one calibration file (a full chip's JSON is about 200 kB).
const maxCalibrationFileBytes = 64 << 20

// calibrationMagic starts a binary calibration file (calib.WriteBinary).
const calibrationMagic = "NMPCAL\x00"

func (s *Server) calibrationOf(r *http.Request, c *store.Calibration) nmpi.Calibration {
	out := nmpi.Calibration{ID: c.ID, Chip: c.Chip, Platform: c.Platform, Status: c.Status, Reason: c.Reason, RequestedBy: c.RequestedBy,
		Created: nmpi.At(c.CreatedAt), Started: nmpi.AtP(c.StartedAt), Completed: nmpi.AtP(c.CompletedAt), Worker: c.LeaseOwner,
		Attempts: c.Attempts, Error: c.Error, Summary: c.Summary}
	base := s.baseURL(r)
	for _, f := range c.Files {
		out.Files = append(out.Files, nmpi.CalibrationFile{Name: f.Name, Size: f.Size, Hash: f.Hash,
			URL: fmt.Sprintf("%s/calibrations/%d/files/%s", base, c.ID, f.Name)})
	}
	return out
}

// latestCalibration is the chip's newest finished calibration (nil if none).
func (s *Server) latestCalibration(ctx context.Context, chip string) (*store.Calibration, error) {
	cs, err := s.st.CalibrationList(ctx, &store.CalibrationListParams{Chip: []string{chip}, Status: []string{store.CalibrationFinished}, Limit: 1})
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

type calibrationNextIn struct {
	Platform string   `json:"platform"`
	Chips    []string `json:"chips"`
}

// handleCalibrationNext is a worker's poll: it says which chips it serves
// (the server schedules calibrations for them) and takes the oldest
// calibration asked for of one of them, under a lease.
func (s *Server) handleCalibrationNext(w http.ResponseWriter, r *http.Request) error {
	var body calibrationNextIn
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	if body.Platform == "" {
		return errorf(http.StatusUnprocessableEntity, "platform: field required (the platform whose chips the worker serves)")
	}
	p, err := s.provider(r, body.Platform)
	if err != nil {
		return err
	}
	if len(body.Chips) == 0 || len(body.Chips) > 64 {
		return errorf(http.StatusUnprocessableEntity, "chips: give 1 to 64 chips the worker serves, not %d", len(body.Chips))
	}
	for i, c := range body.Chips {
		if err := queue.CheckChipName(c); err != nil {
			return errorf(http.StatusUnprocessableEntity, "chips[%d]: %v", i, err)
		}
	}
	now := s.now()
	for _, c := range body.Chips {
		if err := s.st.CalibrationChipSeen(r.Context(), &store.CalibrationChip{Chip: c, Platform: body.Platform, Provider: p.Provider.Name, LastSeen: now}); err != nil {
			return err
		}
		if s.cfg.CalibrateNewChips {
			asked, err := queue.CalibrateNewChip(r.Context(), s.st, c, body.Platform, now)
			if err != nil {
				return err
			}
			if asked {
				s.log.InfoContext(r.Context(), "calibration asked for a chip new to the server", slog.String("chip", c), slog.String("provider", p.Provider.Name))
			}
		}
	}
	c, err := s.st.CalibrationClaim(r.Context(), &store.CalibrationClaimParams{Chips: body.Chips, Owner: p.Provider.Name,
		LeaseID: identity.NewID() + identity.NewID(), Lease: s.cfg.CalibrationLease, MaxAttempts: queue.CalibrationAttempts, Now: now})
	if isNotFound(err) {
		return errorf(http.StatusNotFound, "No queued calibration for %s", strings.Join(body.Chips, ", "))
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "calibration claimed", slog.Int64("calibration", c.ID), slog.String("chip", c.Chip), slog.String("provider", p.Provider.Name),
		slog.Int("attempt", c.Attempts))
	out := s.calibrationOf(r, c)
	out.Lease = &nmpi.Lease{ID: c.LeaseID, Expires: nmpi.At(*c.LeaseExpiresAt), Attempt: c.Attempts}
	w.Header().Set(LeaseHeader, c.LeaseID)
	return reply(w, http.StatusOK, out)
}

// providerCalibration returns the calibration {id} if the caller is a
// provider of its platform holding its lease.
func (s *Server) providerCalibration(r *http.Request) (*store.Calibration, error) {
	p, err := s.provider(r, "")
	if err != nil {
		return nil, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	c, err := s.st.CalibrationGet(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !p.Serves(c.Platform) {
		return nil, errorf(http.StatusForbidden, "provider %s does not run the platform %s of calibration %d", p.Provider.Name, c.Platform, id)
	}
	lease := r.Header.Get(LeaseHeader)
	if lease == "" {
		return nil, errorf(http.StatusUnprocessableEntity, "lease: send the lease id of the claim in the header %s", LeaseHeader)
	}
	if c.Status != store.CalibrationRunning || lease != c.LeaseID {
		return nil, fmt.Errorf("calibration %d (%s): %w", id, c.Status, store.ErrLeaseLost)
	}
	return c, nil
}

// handleCalibrationFileUpload stores one file of a running calibration.
func (s *Server) handleCalibrationFileUpload(w http.ResponseWriter, r *http.Request) error {
	c, err := s.providerCalibration(r)
	if err != nil {
		return err
	}
	if s.cfg.DataDir == "" {
		return errorf(http.StatusNotImplemented, "%v", errNoDataDir)
	}
	name := r.PathValue("name")
	if !calibrationFileName.MatchString(name) {
		return errorf(http.StatusUnprocessableEntity, "file name %q: a calibration file is PRESET_cocolist.pbin or PRESET_cocolist.json", name)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCalibrationFileBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "file %s: larger than the %d bytes a calibration file may have", name, mbe.Limit)
		}
		return errorf(http.StatusBadRequest, "file %s: upload interrupted: %v", name, err)
	}
	if err := checkCalibrationFile(name, c.Chip, data); err != nil {
		return errorf(http.StatusUnprocessableEntity, "file %s: %v", name, err)
	}
	dir := queue.CalibrationDir(s.cfg.DataDir, c.Chip, c.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("store calibration file: %w", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) >= maxCalibrationFiles {
		return errorf(http.StatusUnprocessableEntity, "calibration %d has %d files already, the most it may have", c.ID, len(entries))
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return fmt.Errorf("store calibration file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		return fmt.Errorf("store calibration file: %w", err)
	}
	sum := sha256.Sum256(data)
	return reply(w, http.StatusOK, nmpi.CalibrationFile{Name: name, Size: int64(len(data)), Hash: hex.EncodeToString(sum[:])})
}

// checkCalibrationFile holds what the server can check of a calibration
// file without knowing the system: the binary format's magic, the JSON
// format's name, and that the file is of the chip calibrated.
func checkCalibrationFile(name, chip string, data []byte) error {
	if strings.HasSuffix(name, ".pbin") {
		if !bytes.HasPrefix(data, []byte(calibrationMagic)) {
			return errors.New("not a binary calibration file (no NMPCAL header)")
		}
		return nil
	}
	var head struct {
		Format string `json:"format"`
		Chip   string `json:"chip"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if head.Format != "nmp-bss2-calibration" {
		return fmt.Errorf("format %q is not nmp-bss2-calibration", head.Format)
	}
	if head.Chip != chip {
		return fmt.Errorf("a calibration of chip %q, not of %q", head.Chip, chip)
	}
	return nil
}

type calibrationFinishIn struct {
	Status  string          `json:"status"`
	Error   string          `json:"error"`
	Summary json.RawMessage `json:"summary"`
	Files   []string        `json:"files"`
}

// handleCalibrationFinish ends a running calibration. A finished one becomes
// its chip's latest; a failed one leaves nothing behind, keeps the previous
// latest and is reported (the log, GET /calibrations, the platform status).
func (s *Server) handleCalibrationFinish(w http.ResponseWriter, r *http.Request) error {
	c, err := s.providerCalibration(r)
	if err != nil {
		return err
	}
	var body calibrationFinishIn
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	summary, err := checkObject("summary", body.Summary)
	if err != nil {
		return err
	}
	dir := ""
	if s.cfg.DataDir != "" {
		dir = queue.CalibrationDir(s.cfg.DataDir, c.Chip, c.ID)
	}
	up := store.CalibrationFinishParams{ID: c.ID, LeaseID: c.LeaseID, Status: body.Status, Summary: summary, Now: s.now()}
	switch body.Status {
	case store.CalibrationFinished:
		if dir == "" {
			return errorf(http.StatusNotImplemented, "%v", errNoDataDir)
		}
		if len(body.Files) == 0 {
			return errorf(http.StatusUnprocessableEntity, "files: list the files uploaded (PUT /calibrations/%d/files/NAME)", c.ID)
		}
		pbin := false
		for i, name := range body.Files {
			if !calibrationFileName.MatchString(name) || slices.Contains(body.Files[:i], name) {
				return errorf(http.StatusUnprocessableEntity, "files[%d]: %q is not a calibration file name, or named twice", i, name)
			}
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return errorf(http.StatusUnprocessableEntity, "files[%d]: %s was not uploaded", i, name)
			}
			sum := sha256.Sum256(data)
			up.Files = append(up.Files, store.CalibrationFile{Name: name, Size: int64(len(data)), Hash: hex.EncodeToString(sum[:])})
			pbin = pbin || strings.HasSuffix(name, ".pbin")
		}
		if !pbin {
			return errorf(http.StatusUnprocessableEntity, "files: a finished calibration has at least one binary file (PRESET_cocolist.pbin)")
		}
	case store.CalibrationFailed:
		up.Error = strings.TrimSpace(body.Error)
		if up.Error == "" {
			return errorf(http.StatusUnprocessableEntity, "error: say why the calibration failed")
		}
		if len(up.Error) > 4000 {
			up.Error = up.Error[:4000] + "…"
		}
	default:
		return errorf(http.StatusUnprocessableEntity, "status: %q is not finished or failed", body.Status)
	}
	done, err := s.st.CalibrationFinish(r.Context(), &up)
	if err != nil {
		return err
	}
	if done.Status == store.CalibrationFailed {
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
		prev := "none"
		if l, err := s.latestCalibration(r.Context(), done.Chip); err == nil && l != nil {
			prev = fmt.Sprint(l.ID)
		}
		s.log.ErrorContext(r.Context(), "calibration failed; the chip keeps its previous calibration", slog.Int64("calibration", done.ID),
			slog.String("chip", done.Chip), slog.String("error", done.Error), slog.String("latest", prev))
	} else {
		s.log.InfoContext(r.Context(), "calibration finished; it is the chip's latest", slog.Int64("calibration", done.ID), slog.String("chip", done.Chip))
	}
	out := s.calibrationOf(r, done)
	out.Latest = done.Status == store.CalibrationFinished
	return reply(w, http.StatusOK, out)
}

// handleCalibrationList lists calibrations, newest first (anyone signed in, and providers).
func (s *Server) handleCalibrationList(w http.ResponseWriter, r *http.Request, _ *identity.Principal) error {
	q := newQuery(r)
	limit, err := q.int("limit", 50)
	if err != nil {
		return err
	}
	offset, err := q.int("offset", 0)
	if err != nil {
		return err
	}
	if limit == 0 || limit > 1000 {
		return errorf(http.StatusUnprocessableEntity, "limit: %d is not 1 to 1000", limit)
	}
	p := store.CalibrationListParams{Chip: q.list("chip"), Status: q.list("status"), Limit: limit, Offset: offset}
	for _, st := range p.Status {
		if !slices.Contains([]string{store.CalibrationQueued, store.CalibrationRunning, store.CalibrationFinished, store.CalibrationFailed}, st) {
			return errorf(http.StatusUnprocessableEntity, "status: %q is not queued, running, finished or failed", st)
		}
	}
	cs, err := s.st.CalibrationList(r.Context(), &p)
	if err != nil {
		return err
	}
	latest := map[string]int64{}
	out := make([]nmpi.Calibration, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		if _, ok := latest[c.Chip]; !ok {
			latest[c.Chip] = 0
			if l, err := s.latestCalibration(r.Context(), c.Chip); err != nil {
				return err
			} else if l != nil {
				latest[c.Chip] = l.ID
			}
		}
		o := s.calibrationOf(r, c)
		o.Latest = latest[c.Chip] == c.ID
		out = append(out, o)
	}
	return reply(w, http.StatusOK, out)
}

func (s *Server) handleCalibrationGet(w http.ResponseWriter, r *http.Request, _ *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.st.CalibrationGet(r.Context(), id)
	if err != nil {
		return err
	}
	out := s.calibrationOf(r, c)
	if l, err := s.latestCalibration(r.Context(), c.Chip); err != nil {
		return err
	} else if l != nil {
		out.Latest = l.ID == c.ID
	}
	return reply(w, http.StatusOK, out)
}

// handleCalibrationFileGet serves a file of a finished calibration.
func (s *Server) handleCalibrationFileGet(w http.ResponseWriter, r *http.Request, _ *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.st.CalibrationGet(r.Context(), id)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	var file *store.CalibrationFile
	for i := range c.Files {
		if c.Files[i].Name == name {
			file = &c.Files[i]
		}
	}
	if c.Status != store.CalibrationFinished || file == nil || s.cfg.DataDir == "" {
		return errorf(http.StatusNotFound, "calibration %d (%s) has no file %q", id, c.Status, name)
	}
	f, err := os.Open(filepath.Join(queue.CalibrationDir(s.cfg.DataDir, c.Chip, c.ID), name))
	if err != nil {
		return errorf(http.StatusNotFound, "calibration %d: file %s is missing from the server's data directory", id, name)
	}
	defer f.Close()
	ct := "application/octet-stream"
	if strings.HasSuffix(name, ".json") {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("ETag", `"`+file.Hash+`"`)
	http.ServeContent(w, r, name, *c.CompletedAt, f)
	return nil
}

type calibrationCreateIn struct {
	Chip   string `json:"chip"`
	Reason string `json:"reason"`
}

// handleCalibrationCreate lets an administrator ask for a calibration of a
// chip now. When one of the chip is queued or running already, that one is
// the answer (200), not a second.
func (s *Server) handleCalibrationCreate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	if !p.Admin() {
		return errorf(http.StatusForbidden, "only a platform administrator may ask for a calibration")
	}
	var body calibrationCreateIn
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	if body.Chip == "" {
		return errorf(http.StatusUnprocessableEntity, "chip: field required")
	}
	if err := queue.CheckChipName(body.Chip); err != nil {
		return errorf(http.StatusUnprocessableEntity, "chip: %v", err)
	}
	chips, err := s.st.CalibrationChipList(r.Context())
	if err != nil {
		return err
	}
	var chip *store.CalibrationChip
	var names []string
	for i := range chips {
		names = append(names, chips[i].Chip)
		if chips[i].Chip == body.Chip {
			chip = &chips[i]
		}
	}
	if chip == nil {
		known := "none yet"
		if len(names) > 0 {
			known = strings.Join(names, ", ")
		}
		return errorf(http.StatusUnprocessableEntity, "chip: no worker serves %q (chips workers serve: %s)", body.Chip, known)
	}
	pending, err := s.st.CalibrationList(r.Context(), &store.CalibrationListParams{Chip: []string{chip.Chip},
		Status: []string{store.CalibrationQueued, store.CalibrationRunning}, Limit: 1})
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return reply(w, http.StatusOK, s.calibrationOf(r, &pending[0]))
	}
	now := s.now()
	reason := strings.TrimSpace(body.Reason)
	if len(reason) > 500 {
		return errorf(http.StatusUnprocessableEntity, "reason: at most 500 characters")
	}
	if reason == "" {
		reason = "asked for by " + p.Name()
	}
	c, err := s.st.CalibrationInsert(r.Context(), &store.CalibrationInsertParams{Calibration: store.Calibration{Chip: chip.Chip, Platform: chip.Platform,
		Key: fmt.Sprintf("admin:%d", now.UnixNano()), Reason: reason, RequestedBy: p.Name()}, Now: now})
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "calibration asked for by an administrator", slog.Int64("calibration", c.ID), slog.String("chip", c.Chip), slog.String("by", p.Name()))
	return reply(w, http.StatusCreated, s.calibrationOf(r, c))
}

// platformCalibrations adds each platform's chips' calibrations to the
// statuses (GET / and GET /status). A store error leaves them out.
func (s *Server) platformCalibrations(r *http.Request, plats map[string]nmpi.PlatformStatus) {
	chips, err := s.st.CalibrationChipList(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "platform status: cannot read the chips' calibrations", slog.String("error", err.Error()))
		return
	}
	for _, ch := range chips {
		ps, ok := plats[ch.Platform]
		if !ok && !s.knownPlatform(ch.Platform) {
			continue
		}
		cs, err := s.st.CalibrationList(r.Context(), &store.CalibrationListParams{Chip: []string{ch.Chip}, Limit: 20})
		if err != nil {
			s.log.WarnContext(r.Context(), "platform status: cannot read the chips' calibrations", slog.String("error", err.Error()))
			return
		}
		cc := nmpi.ChipCalibration{Chip: ch.Chip}
		for i := range cs {
			c := &cs[i]
			o := s.calibrationOf(r, c)
			o.Files = nil // GET /calibrations/{id} lists them
			switch c.Status {
			case store.CalibrationFinished:
				if cc.Latest == nil {
					o.Latest = true
					cc.Latest = &o
				}
			case store.CalibrationFailed:
				if cc.Latest == nil && cc.LastFailure == nil {
					cc.LastFailure = &o
				}
			default:
				if cc.Pending == nil {
					cc.Pending = &o
				}
			}
		}
		if cc.Latest == nil {
			if l, err := s.latestCalibration(r.Context(), ch.Chip); err == nil && l != nil {
				o := s.calibrationOf(r, l)
				o.Latest, o.Files = true, nil
				cc.Latest = &o
			}
		}
		if !ok {
			ps = nmpi.PlatformStatus{Status: "ok"}
		}
		ps.Calibrations = append(ps.Calibrations, cc)
		plats[ch.Platform] = ps
	}
}
