package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/store"
)

// IdempotencyHeader names the header of a submission that a client sends
// again, unchanged, when it retries: the same user's submissions with the same
// key make one job.
const IdempotencyHeader = "Idempotency-Key"

// submittedJob is the body of POST /jobs/. collab_id is the v2 client's name for collab.
type submittedJob struct {
	Code             *string         `json:"code"`
	Command          *string         `json:"command"`
	Collab           *string         `json:"collab"`
	CollabID         json.RawMessage `json:"collab_id"`
	InputData        json.RawMessage `json:"input_data"`
	HardwarePlatform *string         `json:"hardware_platform"`
	HardwareConfig   json.RawMessage `json:"hardware_config"`
	Tags             []string        `json:"tags"`
}

func (s *Server) knownPlatform(p string) bool {
	_, ok := s.cfg.PlatformTable.Lookup(p)
	return ok
}

func (s *Server) reservation(platform string) float64 {
	if v, ok := s.cfg.Reservations[platform]; ok {
		return v
	}
	p, _ := s.cfg.PlatformTable.Lookup(platform)
	return p.Reservation
}

// cleanTags strips tags and checks their length (2 to 100 characters, as the reference).
func cleanTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for i, t := range tags {
		t = strings.TrimSpace(t)
		if n := utf8.RuneCountInString(t); n < 2 || n > 100 {
			return nil, errorf(http.StatusUnprocessableEntity, "tags[%d]: %q must have 2 to 100 characters", i, t)
		}
		out = append(out, t)
	}
	return out, nil
}

// checkObject accepts a JSON object or null.
func checkObject(name string, m json.RawMessage) (json.RawMessage, error) {
	t := strings.TrimSpace(string(m))
	if t == "" || t == "null" {
		return nil, nil
	}
	if !strings.HasPrefix(t, "{") {
		return nil, errorf(http.StatusUnprocessableEntity, "%s: expected a JSON object", name)
	}
	return json.RawMessage(t), nil
}

// checkInputData accepts a list of data items, each with an absolute URL.
func checkInputData(m json.RawMessage) (json.RawMessage, error) {
	t := strings.TrimSpace(string(m))
	if t == "" || t == "null" {
		return nil, nil
	}
	var items []struct {
		URL *string `json:"url"`
	}
	if err := json.Unmarshal(m, &items); err != nil {
		return nil, errorf(http.StatusUnprocessableEntity, "input_data: expected a list of {\"url\": ...} objects")
	}
	for i, it := range items {
		if it.URL == nil {
			return nil, errorf(http.StatusUnprocessableEntity, "input_data[%d].url: field required", i)
		}
		if u, err := url.Parse(*it.URL); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, errorf(http.StatusUnprocessableEntity, "input_data[%d].url: %q is not an absolute URL", i, *it.URL)
		}
	}
	return json.RawMessage(t), nil
}

func (s *Server) handleJobSubmit(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	var body submittedJob
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	if body.Collab == nil && len(body.CollabID) > 0 {
		c := strings.Trim(strings.TrimSpace(string(body.CollabID)), `"`)
		body.Collab = &c
	}
	switch {
	case body.Code == nil || strings.TrimSpace(*body.Code) == "":
		return errorf(http.StatusUnprocessableEntity, "code: field required (the script, or the URL of a git repository or archive)")
	case body.Collab == nil || *body.Collab == "":
		return errorf(http.StatusUnprocessableEntity, "collab: field required")
	case strings.HasPrefix(strings.TrimSpace(*body.Code), "drive://"):
		return errorf(http.StatusBadRequest, "code: %s is in an EBRAINS Drive, which this server cannot read, so the job could not run; upload the directory with POST /code?collab=NAME (nmp submit DIR does) and submit the URL it answers",
			strings.TrimSpace(*body.Code))
	case body.HardwarePlatform == nil || *body.HardwarePlatform == "":
		return errorf(http.StatusUnprocessableEntity, "hardware_platform: field required (one of %s)", strings.Join(s.cfg.PlatformTable.Names(), ", "))
	}
	platform := *body.HardwarePlatform
	if !s.knownPlatform(platform) {
		return errorf(http.StatusUnprocessableEntity, "hardware_platform: %q is not a platform of this server (known: %s)", platform, strings.Join(s.cfg.PlatformTable.Names(), ", "))
	}
	if why, ok := s.cfg.Unavailable[platform]; ok {
		return errorf(http.StatusUnprocessableEntity, "hardware_platform: %s is not available on this server: %s", platform, why)
	}
	cfg, err := checkObject("hardware_config", body.HardwareConfig)
	if err != nil {
		return err
	}
	in, err := checkInputData(body.InputData)
	if err != nil {
		return err
	}
	tags, err := cleanTags(body.Tags)
	if err != nil {
		return err
	}
	collab := *body.Collab
	admin, err := asAdmin(r, p)
	if err != nil {
		return err
	}
	if !p.CanEdit(collab) && !admin {
		// A collab the caller cannot see does not exist for them (404, as on the reference server).
		if ok, err := s.canView(r.Context(), p, collab); err != nil {
			return err
		} else if !ok {
			return errorf(http.StatusNotFound, "collab %s: not found", collab)
		}
		return errorf(http.StatusForbidden, "%s may not submit jobs in collab %s: that needs the editor or administrator role in it", p.Name(), collab)
	}
	command := ""
	if body.Command != nil {
		command = *body.Command
	}
	key := r.Header.Get(IdempotencyHeader)
	if len(key) > 200 || strings.IndexFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
		return errorf(http.StatusBadRequest, "%s: at most 200 printable ASCII characters without spaces", IdempotencyHeader)
	}
	j, err := s.st.JobInsert(r.Context(), &store.JobInsertParams{
		Job: store.Job{Code: *body.Code, Command: command, Collab: collab, UserID: p.User.Username, HardwarePlatform: platform,
			HardwareConfig: cfg, InputData: in, Tags: tags, IdempotencyKey: key},
		Now:     s.now(),
		Reserve: s.reservation(platform),
	})
	if errors.Is(err, store.ErrReplayed) {
		// A retry of a submission that was made: the job it made, once.
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Location", fmt.Sprintf("/jobs/%d", j.ID))
		return reply(w, http.StatusCreated, s.jobOf(r, j, nil))
	}
	if errors.Is(err, store.ErrQuotaExceeded) {
		return errorf(http.StatusForbidden, "You do not have sufficient compute quota to submit this job: collab %s has no accepted resource request with %s quota left on %s (see 'quotas' with the client, or ask for access with a resource request)",
			collab, s.units(platform), platform)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/jobs/%d", j.ID))
	return reply(w, http.StatusCreated, s.jobOf(r, j, nil))
}

// viewJob returns the job if the caller may see it. Jobs the caller may not see
// are "not found", as in the reference server, so their existence does not leak.
func (s *Server) viewJob(r *http.Request, p *identity.Principal, id int64) (*store.Job, error) {
	j, err := s.st.JobGet(r.Context(), id)
	if err != nil {
		return nil, err
	}
	notFound := errorf(http.StatusNotFound, "job %d: not found", id)
	switch {
	case p.Provider != nil:
		if !p.Serves(j.HardwarePlatform) {
			return nil, notFound
		}
		return j, nil
	case j.Status == store.StatusRemoved && j.UserID != p.User.Username:
		if admin, err := asAdmin(r, p); err != nil || !admin {
			return nil, notFound
		}
		return j, nil
	case j.UserID == p.User.Username:
		return j, nil
	}
	if admin, err := asAdmin(r, p); err != nil {
		return nil, err
	} else if admin {
		return j, nil
	}
	ok, err := s.canView(r.Context(), p, j.Collab)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound
	}
	return j, nil
}

// editJob returns the job if the caller is its owner, an editor of its collab, or an administrator acting as one.
func (s *Server) editJob(r *http.Request, p *identity.Principal, id int64) (*store.Job, error) {
	j, err := s.viewJob(r, p, id)
	if err != nil {
		return nil, err
	}
	if p.User == nil {
		return nil, errorf(http.StatusForbidden, "this endpoint is for people: send a user's bearer token")
	}
	if j.UserID == p.User.Username || p.CanEdit(j.Collab) {
		return j, nil
	}
	if admin, _ := asAdmin(r, p); admin {
		return j, nil
	}
	return nil, errorf(http.StatusForbidden, "%s may view job %d but not change it: that needs the editor role in collab %s", p.Name(), id, j.Collab)
}

func (s *Server) handleJobGet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := newQuery(r)
	withLog, err := q.bool("with_log")
	if err != nil {
		return err
	}
	withComments, err := q.bool("with_comments")
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
	out := s.jobOf(r, j, items)
	if withLog {
		l, err := s.st.JobLogGet(r.Context(), j.ID)
		if err != nil {
			return err
		}
		if l != "" {
			out.Log = &l
		}
	}
	if withComments {
		cs, err := s.st.CommentList(r.Context(), j.ID)
		if err != nil {
			return err
		}
		out.Comments = make([]nmpi.Comment, len(cs))
		for i := range cs {
			out.Comments[i] = commentOf(&cs[i])
		}
	}
	return reply(w, http.StatusOK, out)
}

func (s *Server) handleJobList(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	q := newQuery(r)
	var err error
	lp := store.JobListParams{Status: q.list("status"), Tags: q.list("tags"), Collab: q.list("collab"), UserID: q.list("user_id"),
		HardwarePlatform: q.list("hardware_platform")}
	for _, st := range lp.Status {
		if !slices.Contains(store.JobStatuses, st) {
			return errorf(http.StatusUnprocessableEntity, "status: %q is not one of %s", st, strings.Join(store.JobStatuses, ", "))
		}
	}
	if slices.Contains(lp.Status, store.StatusRemoved) {
		lp.IncludeRemoved = true
	}
	if lp.SubmittedFrom, err = q.date("date_range_start"); err != nil {
		return err
	}
	if lp.SubmittedTo, err = q.date("date_range_end"); err != nil {
		return err
	}
	if lp.SubmittedTo != nil && len(q.str("date_range_end")) == len("2006-01-02") {
		end := lp.SubmittedTo.AddDate(0, 0, 1) // the end date is included
		lp.SubmittedTo = &end
	}
	if lp.Limit, err = s.pageSize(q, 10); err != nil {
		return err
	}
	if lp.Offset, err = q.int("from_index", 0); err != nil {
		return err
	}
	if lp.Limit == 0 {
		return reply(w, http.StatusOK, []nmpi.Job{})
	}
	lp.MaxCode = ListCodeBytes
	if p.Provider != nil {
		for _, pl := range lp.HardwarePlatform {
			if !p.Serves(pl) {
				return errorf(http.StatusForbidden, "provider %s does not run the platform %s", p.Provider.Name, pl)
			}
		}
		if len(lp.HardwarePlatform) == 0 {
			lp.HardwarePlatform = p.Provider.Platforms
		}
	} else {
		admin, err := asAdmin(r, p)
		if err != nil {
			return err
		}
		if !admin {
			if len(lp.Collab) == 0 {
				switch {
				case len(lp.UserID) > 1:
					return errorf(http.StatusBadRequest, "user_id: without collab, list only your own jobs (one user_id)")
				case len(lp.UserID) == 1 && lp.UserID[0] != p.User.Username:
					return errorf(http.StatusForbidden, "user_id: without collab you may list only your own jobs, not %s's", lp.UserID[0])
				}
				lp.UserID = []string{p.User.Username}
			}
			for _, c := range lp.Collab {
				ok, err := s.canView(r.Context(), p, c)
				if err != nil {
					return err
				}
				if !ok {
					return errorf(http.StatusForbidden, "collab %s: %s may not view its jobs", c, p.Name())
				}
			}
		}
	}
	jobs, err := s.st.JobList(r.Context(), &lp)
	if err != nil {
		return err
	}
	out, err := s.jobsOf(r.Context(), r, jobs)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, out)
}

func (s *Server) handleJobDelete(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	admin, err := asAdmin(r, p)
	if err != nil {
		return err
	}
	j, err := s.editJob(r, p, id)
	if err != nil {
		return err
	}
	if admin {
		// An administrator's delete removes the job and everything attached to it.
		if err := s.st.JobDelete(r.Context(), j.ID); err != nil {
			return err
		}
		s.removeFiles(j.ID)
		return reply(w, http.StatusOK, nil)
	}
	if j.Status == store.StatusRemoved {
		return reply(w, http.StatusOK, nil)
	}
	if _, err := s.st.JobUpdate(r.Context(), &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusRemoved), Now: s.now()}); err != nil {
		return err
	}
	line := fmt.Sprintf("nmp: job removed by %s at %s (it was %s)\n", p.Name(), ts(s.now()), j.Status)
	if j.Status == store.StatusRunning {
		line = fmt.Sprintf("nmp: job removed by %s at %s while running; its runner stops it\n", p.Name(), ts(s.now()))
	}
	if err := s.st.JobLogSet(r.Context(), &store.JobLogSetParams{ID: j.ID, Content: line, Append: true, MaxBytes: s.cfg.MaxLogBytes}); err != nil {
		return err
	}
	return reply(w, http.StatusOK, nil)
}

func ptr[T any](v T) *T { return &v }

func (s *Server) handleJobLogGet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.viewJob(r, p, id)
	if err != nil {
		return err
	}
	l, err := s.st.JobLogGet(r.Context(), j.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(l))
	return nil
}

func (s *Server) handleCommentList(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.viewJob(r, p, id); err != nil {
		return err
	}
	cs, err := s.st.CommentList(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]nmpi.Comment, len(cs))
	for i := range cs {
		out[i] = commentOf(&cs[i])
	}
	return reply(w, http.StatusOK, out)
}

func (s *Server) commentBody(w http.ResponseWriter, r *http.Request) (string, error) {
	var body struct {
		Content *string `json:"content"`
	}
	if err := s.decode(w, r, &body); err != nil {
		return "", err
	}
	if body.Content == nil {
		return "", errorf(http.StatusUnprocessableEntity, "content: field required")
	}
	if n := utf8.RuneCountInString(*body.Content); n < 1 || n > 10000 {
		return "", errorf(http.StatusUnprocessableEntity, "content: must have 1 to 10000 characters (has %d)", n)
	}
	return *body.Content, nil
}

func (s *Server) handleCommentCreate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	content, err := s.commentBody(w, r)
	if err != nil {
		return err
	}
	if _, err := s.viewJob(r, p, id); err != nil {
		return err
	}
	c, err := s.st.CommentCreate(r.Context(), &store.Comment{JobID: id, UserID: p.User.Username, Content: content, CreatedAt: s.now()})
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, commentOf(c))
}

// comment returns the comment if the caller wrote it or administers the platform.
func (s *Server) comment(r *http.Request, p *identity.Principal) (*store.Comment, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return nil, err
	}
	if _, err := s.viewJob(r, p, id); err != nil {
		return nil, err
	}
	c, err := s.st.CommentGet(r.Context(), cid)
	if err != nil {
		return nil, err
	}
	if c.JobID != id {
		return nil, errorf(http.StatusNotFound, "comment %d of job %d: not found", cid, id)
	}
	if c.UserID != p.User.Username && !p.Admin() {
		return nil, errorf(http.StatusForbidden, "comment %d was written by %s: only its author or an administrator may change it", cid, c.UserID)
	}
	return c, nil
}

func (s *Server) handleCommentUpdate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	content, err := s.commentBody(w, r)
	if err != nil {
		return err
	}
	c, err := s.comment(r, p)
	if err != nil {
		return err
	}
	c, err = s.st.CommentUpdate(r.Context(), c.ID, content)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, commentOf(c))
}

func (s *Server) handleCommentDelete(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	c, err := s.comment(r, p)
	if err != nil {
		return err
	}
	if err := s.st.CommentDelete(r.Context(), c.ID); err != nil {
		return err
	}
	return reply(w, http.StatusOK, nil)
}

func (s *Server) handleTagsGet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.viewJob(r, p, id)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, j.Tags)
}

func (s *Server) tagsBody(w http.ResponseWriter, r *http.Request) ([]string, error) {
	var tags []string
	if err := s.decode(w, r, &tags); err != nil {
		return nil, err
	}
	return cleanTags(tags)
}

func (s *Server) handleTagsAdd(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	return s.changeTags(w, r, p, true)
}

func (s *Server) handleTagsRemove(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	return s.changeTags(w, r, p, false)
}

func (s *Server) changeTags(w http.ResponseWriter, r *http.Request, p *identity.Principal, add bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tags, err := s.tagsBody(w, r)
	if err != nil {
		return err
	}
	if _, err := s.editJob(r, p, id); err != nil {
		return err
	}
	var out []string
	if add {
		out, err = s.st.JobTagsAdd(r.Context(), id, tags)
	} else {
		out, err = s.st.JobTagsRemove(r.Context(), id, tags)
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, out)
}

// handleTagList lists the tags used in the given collabs (all, for administrators acting as such).
func (s *Server) handleTagList(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	collabs := newQuery(r).list("collab")
	admin, err := asAdmin(r, p)
	if err != nil {
		return err
	}
	if len(collabs) == 0 && !admin {
		return errorf(http.StatusUnprocessableEntity, "collab: required (the collab whose tags to list)")
	}
	for _, c := range collabs {
		ok, err := s.canView(r.Context(), p, c)
		if err != nil {
			return err
		}
		if !ok && !admin {
			return errorf(http.StatusForbidden, "collab %s: %s may not view its jobs", c, p.Name())
		}
	}
	var filter []string
	if len(collabs) > 0 {
		filter = collabs
	}
	tags, err := s.st.TagList(r.Context(), filter)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, tags)
}
