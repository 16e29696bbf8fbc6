package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/store"
)

// The store's records become the nmpi package's wire documents here.

func commentOf(c *store.Comment) nmpi.Comment {
	return nmpi.Comment{ID: c.ID, JobID: c.JobID, Content: c.Content, UserID: c.UserID, Timestamp: nmpi.At(c.CreatedAt),
		ResourceURI: fmt.Sprintf("/jobs/%d/comments/%d", c.JobID, c.ID)}
}

func (s *Server) units(platform string) string {
	if u, ok := s.cfg.PlatformTable.Units(platform); ok {
		return u
	}
	return "hours"
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// repositoryOf names where files live, from the first file's host, as the reference server does.
func (s *Server) repositoryOf(items []store.DataItem) string {
	if len(items) == 0 {
		return ""
	}
	if items[0].Stored {
		return "nmp temporary storage"
	}
	u, err := url.Parse(items[0].URL)
	if err != nil {
		return "unknown data repository"
	}
	if name := s.cfg.PlatformTable.StorageName(u.Hostname()); name != "" {
		return name
	}
	switch u.Hostname() {
	case "drive.ebrains.eu":
		return "EBRAINS Drive"
	case "data-proxy.ebrains.eu":
		return "EBRAINS Bucket"
	case "example.com":
		return "Fake repository used for testing"
	}
	return "unknown data repository"
}

func (s *Server) dataSetOf(r *http.Request, j *store.Job, items []store.DataItem) *nmpi.DataSet {
	if len(items) == 0 {
		return nil
	}
	ds := &nmpi.DataSet{Repository: j.OutputRepository, Files: make([]nmpi.DataItem, len(items))}
	if ds.Repository == "" {
		ds.Repository = s.repositoryOf(items)
	}
	for i, it := range items {
		u := it.URL
		if it.Stored {
			u = s.signedURL(r, it.JobID, it.Path)
		}
		ds.Files[i] = nmpi.DataItem{URL: u, Path: it.Path, ContentType: strp(it.ContentType), Size: it.Size, Hash: strp(it.Hash)}
	}
	return ds
}

func (s *Server) jobOf(r *http.Request, j *store.Job, items []store.DataItem) nmpi.Job {
	out := nmpi.Job{
		ID: j.ID, Code: j.Code, Command: j.Command, Collab: j.Collab, InputData: j.InputData, HardwarePlatform: j.HardwarePlatform,
		HardwareConfig: j.HardwareConfig, Tags: j.Tags, UserID: j.UserID, Status: j.Status, Submitted: nmpi.At(j.SubmittedAt),
		ResourceURI: fmt.Sprintf("/jobs/%d", j.ID), Provenance: j.Provenance, Completed: nmpi.AtP(j.CompletedAt),
		OutputData: s.dataSetOf(r, j, items),
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if j.ResourceUsage != nil {
		out.ResourceUsage = &nmpi.Usage{Value: *j.ResourceUsage, Units: s.units(j.HardwarePlatform)}
	}
	return out
}

// jobsOf renders jobs with their output files, read in one query.
func (s *Server) jobsOf(ctx context.Context, r *http.Request, jobs []store.Job) ([]nmpi.Job, error) {
	ids := make([]int64, len(jobs))
	for i := range jobs {
		ids[i] = jobs[i].ID
	}
	items, err := s.st.DataItemList(ctx, ids)
	if err != nil {
		return nil, err
	}
	byJob := map[int64][]store.DataItem{}
	for _, it := range items {
		byJob[it.JobID] = append(byJob[it.JobID], it)
	}
	out := make([]nmpi.Job, len(jobs))
	for i := range jobs {
		out[i] = s.jobOf(r, &jobs[i], byJob[jobs[i].ID])
	}
	return out, nil
}

func quotaOf(q *store.Quota) nmpi.Quota {
	return nmpi.Quota{ID: q.ID, Limit: q.Limit, Platform: q.Platform, Units: q.Units, Usage: q.Usage, Reserved: q.Reserved,
		Project: "/projects/" + q.ProjectID, ResourceURI: fmt.Sprintf("/projects/%s/quotas/%d", q.ProjectID, q.ID)}
}

func projectOf(p *store.Project) nmpi.Project {
	out := nmpi.Project{ID: p.ID, Context: p.ID, Collab: p.Collab, Title: p.Title, Abstract: p.Abstract, Description: &p.Description,
		Owner: p.Owner, Access: p.Access, SubmissionDate: datep(p.SubmissionDate), DecisionDate: datep(p.DecisionDate),
		Status: p.Status(), ResourceURI: "/projects/" + p.ID, Quotas: make([]nmpi.Quota, len(p.Quotas)), DecisionReason: p.DecisionReason}
	for i := range p.Quotas {
		out.Quotas[i] = quotaOf(&p.Quotas[i])
	}
	return out
}

func (s *Server) sessionOf(x *store.Session) nmpi.Session {
	out := nmpi.Session{ID: x.ID, ResourceURI: fmt.Sprintf("/sessions/%d", x.ID), Collab: x.Collab, UserID: x.UserID, HardwarePlatform: x.HardwarePlatform,
		HardwareConfig: x.HardwareConfig, Status: x.Status, Started: nmpi.At(x.StartedAt), Ended: nmpi.AtP(x.EndedAt),
		ResourceUsage: nmpi.Usage{Units: s.units(x.HardwarePlatform)}}
	if x.ResourceUsage != nil {
		out.ResourceUsage.Value = *x.ResourceUsage
	}
	return out
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
