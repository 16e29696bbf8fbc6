package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// LeaseHeader carries the lease id of a claimed job on the runner's updates;
// an update under a lease that was lost (expired and requeued) answers 409.
const LeaseHeader = "X-Nmp-Lease"

// handleJobNext answers the oldest queued job of the platform without changing
// it, as the reference server does for its existing runners. It does not claim
// the job: use POST for that.
func (s *Server) handleJobNext(w http.ResponseWriter, r *http.Request) error {
	platform := r.PathValue("platform")
	if _, err := s.provider(r, platform); err != nil {
		return err
	}
	j, err := s.st.JobNext(r.Context(), platform)
	if isNotFound(err) {
		return errorf(http.StatusNotFound, "No queued job for %s", platform)
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s.jobOf(r, j, nil))
}

// handleJobClaim takes the oldest queued job of the platform atomically: it
// becomes running under a lease that the runner must renew (POST
// /jobs/{id}/lease) before it expires, or the job goes back to the queue.
func (s *Server) handleJobClaim(w http.ResponseWriter, r *http.Request) error {
	platform := r.PathValue("platform")
	p, err := s.provider(r, platform)
	if err != nil {
		return err
	}
	// ?hold=X: the runner lets a job use up to X of the platform's units; the
	// job's hold grows towards it as far as its quota has room (zero overspend).
	// ?min_hold=Y: jobs whose quota has less room than Y while other jobs
	// holding it run wait for them (see store.JobClaimParams).
	var holds [2]float64
	for i, name := range []string{"hold", "min_hold"} {
		if v := newQuery(r).str(name); v != "" {
			h, err := strconv.ParseFloat(v, 64)
			if err != nil || h < 0 || math.IsInf(h, 0) || math.IsNaN(h) {
				return errorf(http.StatusUnprocessableEntity, "%s: %q is not a non-negative number", name, v)
			}
			holds[i] = h
		}
	}
	j, err := s.st.JobClaim(r.Context(), &store.JobClaimParams{Platform: platform, Owner: p.Provider.Name, LeaseID: identity.NewID() + identity.NewID(),
		Lease: s.cfg.Lease, Now: s.now(), Hold: holds[0], MinHold: min(holds[1], holds[0])})
	if isNotFound(err) {
		return errorf(http.StatusNotFound, "No queued job for %s", platform)
	}
	if err != nil {
		return err
	}
	s.notifyStatus(r.Context(), j, store.StatusSubmitted)
	out := s.jobOf(r, j, nil)
	out.Lease = &nmpi.Lease{ID: j.LeaseID, Expires: nmpi.At(*j.LeaseExpiresAt), Attempt: j.Attempts, Hold: j.HoldAmount}
	w.Header().Set(LeaseHeader, j.LeaseID)
	return reply(w, http.StatusOK, out)
}

// providerJob returns the job if the caller is a provider running its platform.
func (s *Server) providerJob(r *http.Request) (*identity.Principal, *store.Job, error) {
	p, err := s.provider(r, "")
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, nil, err
	}
	j, err := s.st.JobGet(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if !p.Serves(j.HardwarePlatform) {
		return nil, nil, errorf(http.StatusForbidden, "provider %s does not run the platform %s of job %d", p.Provider.Name, j.HardwarePlatform, id)
	}
	return p, j, nil
}

func (s *Server) handleLeaseRenew(w http.ResponseWriter, r *http.Request) error {
	_, j, err := s.providerJob(r)
	if err != nil {
		return err
	}
	lease := r.Header.Get(LeaseHeader)
	if lease == "" {
		var body struct {
			Lease string `json:"lease"`
		}
		if r.ContentLength != 0 {
			if err := s.decode(w, r, &body); err != nil {
				return err
			}
		}
		lease = body.Lease
	}
	if lease == "" {
		return errorf(http.StatusUnprocessableEntity, "lease: send the lease id of the claim in the header %s", LeaseHeader)
	}
	j, err = s.st.JobLeaseRenew(r.Context(), &store.JobLeaseRenewParams{ID: j.ID, LeaseID: lease, Lease: s.cfg.Lease, Now: s.now()})
	if err != nil {
		return err
	}
	l := nmpi.Lease{ID: j.LeaseID, Expires: nmpi.At(*j.LeaseExpiresAt), Attempt: j.Attempts, Hold: j.HoldAmount}
	// A job whose hold its collab's quota no longer covers is to be stopped
	// (zero overspend); the lease stays, so that its runner can end it.
	over, err := s.st.JobsOverQuota(r.Context(), &store.JobsOverQuotaParams{JobID: j.ID, Collab: j.Collab, Platform: j.HardwarePlatform})
	if err != nil {
		return err
	}
	if len(over) > 0 {
		units := ""
		if pl, ok := s.cfg.PlatformTable.Lookup(j.HardwarePlatform); ok {
			units = pl.Units
		}
		l.Stop = queue.StopReason(over[0], units)
	}
	return reply(w, http.StatusOK, l)
}

// jobPatch is what a provider PUTs to /jobs/{id}. Runners PUT whole job
// documents back: every other field is ignored.
type jobPatch struct {
	Status        *string         `json:"status"`
	OutputData    json.RawMessage `json:"output_data"`
	Provenance    json.RawMessage `json:"provenance"`
	ResourceUsage json.RawMessage `json:"resource_usage"`
	Log           *string         `json:"log"`
}

type dataSetIn struct {
	Repository string `json:"repository"`
	Files      []struct {
		URL         *string `json:"url"`
		Path        *string `json:"path"`
		ContentType *string `json:"content_type"`
		Size        *int64  `json:"size"`
		Hash        *string `json:"hash"`
	} `json:"files"`
}

func (s *Server) handleJobUpdate(w http.ResponseWriter, r *http.Request) error {
	_, j, err := s.providerJob(r)
	if err != nil {
		return err
	}
	var body jobPatch
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	up := store.JobUpdateParams{ID: j.ID, LeaseID: r.Header.Get(LeaseHeader), Status: body.Status, Now: s.now()}
	// Refuse early what the store would refuse, so that no file or log is recorded for a refused update.
	if up.LeaseID != "" && up.LeaseID != j.LeaseID {
		return fmt.Errorf("job %d: %w", j.ID, store.ErrLeaseLost)
	}
	if up.Status != nil && *up.Status != j.Status && store.Terminal(j.Status) {
		return fmt.Errorf("job %d is %s; it cannot become %s: %w", j.ID, j.Status, *up.Status, store.ErrConflict)
	}
	if up.Status != nil {
		valid := false
		for _, st := range store.JobStatuses {
			valid = valid || st == *up.Status
		}
		if !valid {
			return errorf(http.StatusUnprocessableEntity, "status: %q is not one of %s", *up.Status, strings.Join(store.JobStatuses, ", "))
		}
	}
	if prov, err := checkObject("provenance", body.Provenance); err != nil {
		return err
	} else if prov != nil {
		up.Provenance = prov
	}
	if ru := strings.TrimSpace(string(body.ResourceUsage)); ru != "" && ru != "null" {
		var u struct {
			Value *float64 `json:"value"`
			Units string   `json:"units"`
		}
		if err := json.Unmarshal(body.ResourceUsage, &u); err != nil || u.Value == nil {
			return errorf(http.StatusUnprocessableEntity, "resource_usage: expected {\"value\": number, \"units\": %q}", s.units(j.HardwarePlatform))
		}
		if *u.Value < 0 {
			return errorf(http.StatusUnprocessableEntity, "resource_usage.value: %v is negative", *u.Value)
		}
		if !s.cfg.PlatformTable.UnitsMatch(j.HardwarePlatform, u.Units) && !(u.Units == "hours" && s.units(j.HardwarePlatform) == "hours") {
			return errorf(http.StatusBadRequest, "resource_usage.units: %s usage is counted in %s, not %q", j.HardwarePlatform, s.units(j.HardwarePlatform), u.Units)
		}
		up.ResourceUsage = u.Value
	}
	var files *dataSetIn
	if od := strings.TrimSpace(string(body.OutputData)); od != "" && od != "null" {
		files = &dataSetIn{}
		if err := json.Unmarshal(body.OutputData, files); err != nil {
			return errorf(http.StatusUnprocessableEntity, "output_data: expected {\"repository\": ..., \"files\": [...]}")
		}
		if files.Repository != "" {
			up.Repository = &files.Repository
		}
	}
	// Check the files before changing anything.
	var items []store.DataItem
	if files != nil {
		for i, f := range files.Files {
			if f.URL == nil {
				return errorf(http.StatusUnprocessableEntity, "output_data.files[%d].url: field required", i)
			}
			u, err := url.Parse(*f.URL)
			if err != nil || u.Scheme == "" || u.Host == "" {
				return errorf(http.StatusUnprocessableEntity, "output_data.files[%d].url: %q is not an absolute URL", i, *f.URL)
			}
			raw := ""
			if f.Path != nil {
				raw = *f.Path
			}
			if raw == "" {
				raw = strings.TrimPrefix(u.Path, "/")
			}
			clean, err := CleanPath(raw)
			if err != nil {
				return errorf(http.StatusUnprocessableEntity, "output_data.files[%d].path: %v", i, err)
			}
			it := store.DataItem{JobID: j.ID, Path: clean, URL: *f.URL, Size: f.Size}
			if f.ContentType != nil {
				it.ContentType = *f.ContentType
			}
			if f.Hash != nil {
				it.Hash = *f.Hash
			}
			items = append(items, it)
		}
	}
	for _, it := range items {
		if _, err := s.st.DataItemUpsert(r.Context(), &store.DataItemUpsertParams{Item: it, Collab: j.Collab, Now: s.now()}); err != nil {
			return err
		}
	}
	if body.Log != nil {
		if err := s.st.JobLogSet(r.Context(), &store.JobLogSetParams{ID: j.ID, Content: *body.Log, MaxBytes: s.cfg.MaxLogBytes}); err != nil {
			return err
		}
	}
	before := j.Status
	j, err = s.st.JobUpdate(r.Context(), &up)
	if err != nil {
		return err
	}
	s.notifyStatus(r.Context(), j, before)
	all, err := s.st.DataItemList(r.Context(), []int64{j.ID})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s.jobOf(r, j, all))
}

// notifyStatus tells the notifier about a job that started or ended.
func (s *Server) notifyStatus(ctx context.Context, j *store.Job, before string) {
	n := s.cfg.Notifier
	if n == nil || j.Status == before {
		return
	}
	started := j.Status == store.StatusRunning
	ended := j.Status == store.StatusFinished || j.Status == store.StatusError
	if !started && !ended {
		return
	}
	// Notifications outlive the request; they must not be cancelled with it.
	ctx = context.WithoutCancel(ctx)
	u, err := s.st.UserGet(ctx, j.UserID)
	if err != nil {
		s.log.WarnContext(ctx, "notify: no such user", slog.String("user", j.UserID), slog.Int64("job", j.ID))
		return
	}
	if started {
		n.JobStarted(ctx, j, u)
		return
	}
	l, err := s.st.JobLogGet(ctx, j.ID)
	if err != nil {
		s.log.WarnContext(ctx, "notify: cannot read log", slog.Int64("job", j.ID), slog.String("error", err.Error()))
	}
	n.JobEnded(ctx, j, u, l)
}

// readLogBody reads a log sent as text/plain, or as a JSON string (nmpi 0.11.2 JSON-encodes it).
func (s *Server) readLogBody(w http.ResponseWriter, r *http.Request) (string, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxLogBytes)+(1<<20)))
	if err != nil {
		return "", err
	}
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] == '"' {
		var str string
		if err := json.Unmarshal(t, &str); err == nil {
			return str, nil
		}
	}
	if len(t) > 0 && t[0] == '{' && strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var obj struct {
			Content *string `json:"content"`
			Log     *string `json:"log"`
		}
		if err := json.Unmarshal(t, &obj); err == nil {
			switch {
			case obj.Content != nil:
				return *obj.Content, nil
			case obj.Log != nil:
				return *obj.Log, nil
			}
		}
	}
	return string(data), nil
}

func (s *Server) handleLogSet(w http.ResponseWriter, r *http.Request) error {
	return s.setLog(w, r, false)
}

func (s *Server) handleLogAppend(w http.ResponseWriter, r *http.Request) error {
	return s.setLog(w, r, true)
}

func (s *Server) setLog(w http.ResponseWriter, r *http.Request, appendLog bool) error {
	_, j, err := s.providerJob(r)
	if err != nil {
		return err
	}
	if lease := r.Header.Get(LeaseHeader); lease != "" && lease != j.LeaseID {
		return errorf(http.StatusConflict, "job %d: %v", j.ID, store.ErrLeaseLost)
	}
	content, err := s.readLogBody(w, r)
	if err != nil {
		return err
	}
	if err := s.st.JobLogSet(r.Context(), &store.JobLogSetParams{ID: j.ID, Content: content, Append: appendLog, MaxBytes: s.cfg.MaxLogBytes}); err != nil {
		return err
	}
	return reply(w, http.StatusOK, nil)
}

func (s *Server) handleOutputGet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.viewJob(r, p, id)
	if err != nil {
		return err
	}
	items, err := s.st.DataItemList(r.Context(), []int64{j.ID})
	if err != nil {
		return err
	}
	ds := s.dataSetOf(r, j, items)
	if ds == nil {
		ds = &nmpi.DataSet{Repository: j.OutputRepository, Files: []nmpi.DataItem{}}
	}
	return reply(w, http.StatusOK, ds)
}

// handleOutputCopy is the client's copy_data_to_storage. nmp has no EBRAINS
// Drive or Bucket to copy to; what the guidebook's copy is for, keeping results
// past the three-month retention of temporary storage, it does in place: the
// job's stored files are kept until deleted, within the collab's storage quota.
func (s *Server) handleOutputCopy(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body struct {
		Repository string `json:"repository"`
	}
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	switch body.Repository {
	case "EBRAINS Drive", "EBRAINS Bucket", "nmp collab storage":
	default:
		return errorf(http.StatusUnprocessableEntity, "repository: %q is not one of \"EBRAINS Drive\", \"EBRAINS Bucket\", \"nmp collab storage\"", body.Repository)
	}
	j, err := s.editJob(r, p, id)
	if err != nil {
		return err
	}
	if _, err := s.st.DataItemRetain(r.Context(), j.ID, nil); err != nil {
		return err
	}
	items, err := s.st.DataItemList(r.Context(), []int64{j.ID})
	if err != nil {
		return err
	}
	var kept []store.DataItem
	for _, it := range items {
		if it.Stored {
			kept = append(kept, it)
		}
	}
	ds := s.dataSetOf(r, j, kept)
	if ds == nil {
		ds = &nmpi.DataSet{Files: []nmpi.DataItem{}}
	}
	ds.Repository = "nmp collab storage"
	return reply(w, http.StatusOK, ds)
}

var errNoDataDir = errors.New("this server keeps no output files (it was started without a data directory)")
