package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// Limits of a resource request, from the Resource Manager form of the guidebook.
const (
	MaxTitle       = 200
	MaxAbstract    = 500
	MaxDescription = 10000
	// MaxDecisionReason caps an administrator's comment on a decision.
	MaxDecisionReason = 2000
)

var projectStatuses = []string{store.ProjectInPreparation, store.ProjectUnderReview, store.ProjectAccepted, store.ProjectRejected}

func checkLen(field, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	if n < min || n > max {
		if min > 0 && n == 0 {
			return errorf(http.StatusUnprocessableEntity, "%s: field required", field)
		}
		return errorf(http.StatusUnprocessableEntity, "%s: at most %d characters (has %d)", field, max, n)
	}
	return nil
}

type projectSubmission struct {
	Collab      *string `json:"collab"`
	Title       *string `json:"title"`
	Abstract    *string `json:"abstract"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
	Access      *string `json:"access"`
}

func (s *Server) handleProjectCreate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	var body projectSubmission
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	str := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	pr := store.Project{ID: queue.NewProjectID(), Collab: str(body.Collab), Owner: p.User.Username, Title: strings.TrimSpace(str(body.Title)),
		Abstract: str(body.Abstract), Description: str(body.Description), Access: queue.AccessTest, CreatedAt: s.now()}
	for _, err := range []error{checkLen("collab", pr.Collab, 1, 200), checkLen("title", pr.Title, 1, MaxTitle),
		checkLen("abstract", pr.Abstract, 1, MaxAbstract), checkLen("description", pr.Description, 0, MaxDescription)} {
		if err != nil {
			return err
		}
	}
	if body.Access != nil {
		if err := queue.ValidAccess(*body.Access); err != nil {
			return errorf(http.StatusUnprocessableEntity, "%v", err)
		}
		pr.Access = *body.Access
	}
	submit := false
	switch str(body.Status) {
	case "", store.ProjectInPreparation:
	case store.ProjectUnderReview:
		submit = true
	default:
		return errorf(http.StatusUnprocessableEntity, "status: a new resource request is %q or %q, not %q", store.ProjectInPreparation, store.ProjectUnderReview, str(body.Status))
	}
	if !p.CanEdit(pr.Collab) && !p.Admin() {
		return errorf(http.StatusForbidden, "%s may not request resources for collab %s: that needs the editor or administrator role in it", p.Name(), pr.Collab)
	}
	if submit {
		now := s.now()
		pr.SubmissionDate = &now
	}
	out, err := s.st.ProjectCreate(r.Context(), &pr)
	if err != nil {
		return err
	}
	if submit {
		s.notifySubmitted(r.Context(), out)
	}
	w.Header().Set("Location", "/projects/"+out.ID)
	return reply(w, http.StatusCreated, projectOf(out))
}

func (s *Server) notifySubmitted(ctx context.Context, pr *store.Project) {
	if s.cfg.Notifier == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	users, err := s.st.UserList(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "notify: cannot list administrators", "error", err.Error())
		return
	}
	var admins []store.User
	for _, u := range users {
		if u.Admin {
			admins = append(admins, u)
		}
	}
	s.cfg.Notifier.ProjectSubmitted(ctx, pr, admins)
}

// viewProject returns the project if the caller may see it.
func (s *Server) viewProject(r *http.Request, p *identity.Principal) (*store.Project, error) {
	id := r.PathValue("id")
	pr, err := s.st.ProjectGet(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if p.Provider != nil {
		// Providers see the accepted requests that grant their platforms, as
		// their listings do; the rest does not exist for them.
		if pr.Accepted {
			for _, q := range pr.Quotas {
				if p.Serves(q.Platform) {
					return pr, nil
				}
			}
		}
		return nil, errorf(http.StatusNotFound, "resource request %s: not found", id)
	}
	if pr.Owner == p.User.Username || p.IsMember(pr.Collab) {
		return pr, nil
	}
	if admin, err := asAdmin(r, p); err != nil {
		return nil, err
	} else if admin || p.Admin() {
		return pr, nil
	}
	return nil, errorf(http.StatusForbidden, "resource request %s of collab %s: %s is not a member", id, pr.Collab, p.Name())
}

func (s *Server) handleProjectGet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	pr, err := s.viewProject(r, p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, projectOf(pr))
}

func (s *Server) handleProjectList(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	q := newQuery(r)
	var err error
	lp := store.ProjectListParams{Status: q.str("status"), Collab: q.list("collab"), Owner: q.list("owner")}
	if lp.Status != "" && !slices.Contains(projectStatuses, lp.Status) {
		return errorf(http.StatusUnprocessableEntity, "status: %q is not one of %s", lp.Status, strings.Join(projectStatuses, ", "))
	}
	// The client's resource_requests() sends no size; a default of 10 (the
	// reference's) would hide quotas from its quotas(), so ours is larger.
	if lp.Limit, err = s.pageSize(q, 1000); err != nil {
		return err
	}
	if lp.Offset, err = q.int("from_index", 0); err != nil {
		return err
	}
	if lp.Limit == 0 {
		return reply(w, http.StatusOK, []nmpi.Project{})
	}
	if p.Provider != nil {
		if len(lp.Collab) == 0 {
			return errorf(http.StatusUnprocessableEntity, "collab: required for providers")
		}
		lp.Status = store.ProjectAccepted
	} else {
		admin, err := asAdmin(r, p)
		if err != nil {
			return err
		}
		if !admin {
			if len(lp.Collab) == 0 {
				lp.Collab = []string{identity.PrivateCollab(p.User.Username)}
				for c := range p.Roles {
					if p.CanEdit(c) {
						lp.Collab = append(lp.Collab, c)
					}
				}
			}
			for _, c := range lp.Collab {
				if !p.IsMember(c) {
					return errorf(http.StatusForbidden, "collab %s: %s is not a member", c, p.Name())
				}
			}
		}
	}
	ps, err := s.st.ProjectList(r.Context(), &lp)
	if err != nil {
		return err
	}
	out := make([]nmpi.Project, len(ps))
	for i := range ps {
		out[i] = projectOf(&ps[i])
	}
	return reply(w, http.StatusOK, out)
}

type projectUpdate struct {
	// DecisionReason goes with an administrator's decision (nmp's addition).
	DecisionReason *string `json:"decision_reason"`
	Title          *string `json:"title"`
	Abstract       *string `json:"abstract"`
	Description    *string `json:"description"`
	Owner          *string `json:"owner"`
	Status         *string `json:"status"`
	Access         *string `json:"access"`
}

func (s *Server) handleProjectUpdate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	var body projectUpdate
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	pr, err := s.viewProject(r, p)
	if err != nil {
		return err
	}
	admin, err := asAdmin(r, p)
	if err != nil {
		return err
	}
	up := store.ProjectUpdateParams{ID: pr.ID, Title: body.Title, Abstract: body.Abstract, Description: body.Description, Owner: body.Owner, Access: body.Access, Now: s.now()}
	for _, c := range []struct {
		field string
		v     *string
		min   int
		max   int
	}{{"title", body.Title, 1, MaxTitle}, {"abstract", body.Abstract, 1, MaxAbstract}, {"description", body.Description, 0, MaxDescription}} {
		if c.v != nil {
			if err := checkLen(c.field, *c.v, c.min, c.max); err != nil {
				return err
			}
		}
	}
	if body.Access != nil {
		if err := queue.ValidAccess(*body.Access); err != nil {
			return errorf(http.StatusUnprocessableEntity, "%v", err)
		}
	}
	status := ""
	if body.Status != nil {
		status = *body.Status
		if !slices.Contains(projectStatuses, status) {
			return errorf(http.StatusUnprocessableEntity, "status: %q is not one of %s", status, strings.Join(projectStatuses, ", "))
		}
	}
	if body.DecisionReason != nil && status != store.ProjectAccepted && status != store.ProjectRejected {
		return errorf(http.StatusUnprocessableEntity, "decision_reason: only with status \"accepted\" or \"rejected\"")
	}
	switch {
	case status == store.ProjectAccepted || status == store.ProjectRejected:
		if !admin {
			return errorf(http.StatusForbidden, "only a platform administrator (with as_admin=true) may accept or reject a resource request")
		}
		if status == pr.Status() {
			return reply(w, http.StatusOK, projectOf(pr))
		}
		if pr.SubmissionDate == nil {
			return errorf(http.StatusConflict, "resource request %s is in preparation: it is decided on once submitted (status \"under review\")", pr.ID)
		}
		accept := status == store.ProjectAccepted
		up.Decide = &accept
		if body.DecisionReason != nil {
			if err := checkLen("decision_reason", *body.DecisionReason, 0, MaxDecisionReason); err != nil {
				return err
			}
			up.DecisionReason = body.DecisionReason
		}
		if accept {
			access := pr.Access
			if body.Access != nil {
				access = *body.Access
			}
			up.Grant = queue.Grant(s.cfg.PlatformTable, access)
		}
	case admin:
		// Administrators may edit at any time.
		if status == store.ProjectUnderReview {
			up.Submit = true
		} else if status == store.ProjectInPreparation {
			up.Unsubmit = true
		}
	default:
		if !p.CanEdit(pr.Collab) && pr.Owner != p.User.Username {
			return errorf(http.StatusForbidden, "%s may not edit resource requests of collab %s: that needs the editor role in it", p.Name(), pr.Collab)
		}
		if pr.SubmissionDate != nil {
			return errorf(http.StatusForbidden, "Can't edit a submitted form: resource request %s is %s", pr.ID, pr.Status())
		}
		if body.Owner != nil && *body.Owner != pr.Owner {
			return errorf(http.StatusForbidden, "owner: only an administrator may change it")
		}
		up.Submit = status == store.ProjectUnderReview
	}
	out, err := s.st.ProjectUpdate(r.Context(), &up)
	if err != nil {
		return err
	}
	if up.Submit && pr.SubmissionDate == nil {
		s.notifySubmitted(r.Context(), out)
	}
	return reply(w, http.StatusOK, projectOf(out))
}

func (s *Server) handleProjectDelete(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	pr, err := s.viewProject(r, p)
	if err != nil {
		return err
	}
	// Administrators act as such only with as_admin=true (server.md).
	admin, err := asAdmin(r, p)
	if err != nil {
		return err
	}
	if p.User == nil || !p.CanEdit(pr.Collab) && !admin {
		return errorf(http.StatusForbidden, "%s may not delete resource requests of collab %s: that needs the editor role in it", p.Name(), pr.Collab)
	}
	if pr.Accepted && !admin {
		return errorf(http.StatusForbidden, "resource request %s was accepted: only an administrator (with as_admin=true) may delete it (its quotas go with it)", pr.ID)
	}
	if err := s.st.ProjectDelete(r.Context(), pr.ID); err != nil {
		return err
	}
	if pr.Accepted {
		for _, q := range pr.Quotas {
			what := fmt.Sprintf("removed (%g %s) with its resource request %s by %s at %s", q.Limit, q.Units, pr.ID, p.Name(), ts(s.now()))
			if err := s.noteQuotaChange(r, pr.Collab, q.Platform, what); err != nil {
				return err
			}
		}
	}
	return reply(w, http.StatusOK, nil)
}

func (s *Server) handleQuotaList(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	pr, err := s.viewProject(r, p)
	if err != nil {
		return err
	}
	q := newQuery(r)
	size, err := s.pageSize(q, 1000)
	if err != nil {
		return err
	}
	from, err := q.int("from_index", 0)
	if err != nil {
		return err
	}
	out := []nmpi.Quota{}
	for i := range pr.Quotas {
		if i >= from && len(out) < size {
			out = append(out, quotaOf(&pr.Quotas[i]))
		}
	}
	return reply(w, http.StatusOK, out)
}

// quota returns the quota named in the path, checking it belongs to the project.
func (s *Server) quota(r *http.Request, pr *store.Project) (*store.Quota, error) {
	qid, err := pathID(r, "qid")
	if err != nil {
		return nil, err
	}
	for i := range pr.Quotas {
		if pr.Quotas[i].ID == qid {
			return &pr.Quotas[i], nil
		}
	}
	return nil, errorf(http.StatusNotFound, "quota %d of resource request %s: not found", qid, pr.ID)
}

func (s *Server) handleQuotaGet(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	pr, err := s.viewProject(r, p)
	if err != nil {
		return err
	}
	q, err := s.quota(r, pr)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, quotaOf(q))
}

func (s *Server) handleQuotaCreate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	if !p.Admin() {
		return errorf(http.StatusForbidden, "only a platform administrator may add quotas")
	}
	var body struct {
		Limit    *float64 `json:"limit"`
		Platform *string  `json:"platform"`
		Units    *string  `json:"units"`
		Usage    *float64 `json:"usage"`
	}
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	if body.Platform == nil || (!s.knownPlatform(*body.Platform) && *body.Platform != platform.Storage) {
		return errorf(http.StatusUnprocessableEntity, "platform: one of %s or %s", strings.Join(s.cfg.PlatformTable.Names(), ", "), platform.Storage)
	}
	if body.Limit == nil || *body.Limit < 0 {
		return errorf(http.StatusUnprocessableEntity, "limit: a non-negative number is required")
	}
	units := s.units(*body.Platform)
	if body.Units != nil && *body.Units != "" {
		units = *body.Units
	}
	if len(units) > 15 {
		return errorf(http.StatusUnprocessableEntity, "units: at most 15 characters")
	}
	usage := 0.0
	if body.Usage != nil {
		usage = *body.Usage
	}
	q, err := s.st.QuotaCreate(r.Context(), &store.Quota{ProjectID: r.PathValue("id"), Platform: *body.Platform, Units: units, Limit: *body.Limit, Usage: usage})
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, quotaOf(q))
}

// handleQuotaUpdate lets an administrator, or the provider running the quota's
// platform, set its limit and usage. A missing limit stays as it was.
func (s *Server) handleQuotaUpdate(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	var body struct {
		Limit *float64 `json:"limit"`
		Usage *float64 `json:"usage"`
	}
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	pr, err := s.viewProject(r, p)
	if err != nil {
		return err
	}
	q, err := s.quota(r, pr)
	if err != nil {
		return err
	}
	if !p.Admin() && !p.Serves(q.Platform) {
		return errorf(http.StatusForbidden, "only an administrator or the provider of %s may change this quota", q.Platform)
	}
	before := *q
	q, err = s.st.QuotaUpdate(r.Context(), &store.QuotaUpdateParams{ID: q.ID, Limit: body.Limit, Usage: body.Usage})
	if err != nil {
		return err
	}
	if q.Limit < before.Limit || q.Usage > before.Usage {
		what := fmt.Sprintf("changed (limit %g, usage %g %s) by %s at %s", q.Limit, q.Usage, q.Units, p.Name(), ts(s.now()))
		if q.Limit < before.Limit {
			what = fmt.Sprintf("lowered from %g to %g %s by %s at %s", before.Limit, q.Limit, q.Units, p.Name(), ts(s.now()))
		}
		if err := s.noteQuotaChange(r, pr.Collab, q.Platform, what); err != nil {
			return err
		}
	}
	return reply(w, http.StatusOK, quotaOf(q))
}

func (s *Server) handleQuotaDelete(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	if !p.Admin() {
		return errorf(http.StatusForbidden, "only a platform administrator may remove quotas")
	}
	pr, err := s.viewProject(r, p)
	if err != nil {
		return err
	}
	q, err := s.quota(r, pr)
	if err != nil {
		return err
	}
	if err := s.st.QuotaDelete(r.Context(), q.ID); err != nil {
		return err
	}
	what := fmt.Sprintf("removed (%g %s) by %s at %s", q.Limit, q.Units, p.Name(), ts(s.now()))
	if err := s.noteQuotaChange(r, pr.Collab, q.Platform, what); err != nil {
		return err
	}
	return reply(w, http.StatusOK, nil)
}

// noteQuotaChange writes a lowered or removed quota into the logs of the
// running jobs whose holds it no longer covers; their runners learn at their
// next lease renewal that they must stop them (queue.StopReason).
func (s *Server) noteQuotaChange(r *http.Request, collab, platform, what string) error {
	over, err := queue.NoteQuotaChange(r.Context(), s.st, queue.QuotaChange{Collab: collab, Platform: platform, What: what, MaxLogBytes: s.cfg.MaxLogBytes})
	if len(over) > 0 {
		s.log.Info("quota change: running jobs no longer fit and are stopped", "collab", collab, "platform", platform, "jobs", len(over), "change", what)
	}
	return err
}

// handleCollabList lists the collabs where the caller may submit and that have a resource request.
func (s *Server) handleCollabList(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	q := newQuery(r)
	size, err := s.pageSize(q, 1000)
	if err != nil {
		return err
	}
	from, err := q.int("from_index", 0)
	if err != nil {
		return err
	}
	cands := []string{identity.PrivateCollab(p.User.Username)}
	for c := range p.Roles {
		if p.CanEdit(c) {
			cands = append(cands, c)
		}
	}
	if st := q.str("status"); st != "" && !slices.Contains(projectStatuses, st) {
		return errorf(http.StatusUnprocessableEntity, "status: %q is not one of %s", st, strings.Join(projectStatuses, ", "))
	}
	ps, err := s.st.ProjectList(r.Context(), &store.ProjectListParams{Collab: cands, Status: q.str("status")})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, pr := range ps {
		seen[pr.Collab] = true
	}
	var all []string
	for c := range seen {
		all = append(all, c)
	}
	sort.Strings(all)
	out := []string{}
	for i, c := range all {
		if i >= from && len(out) < size {
			out = append(out, c)
		}
	}
	return reply(w, http.StatusOK, out)
}
