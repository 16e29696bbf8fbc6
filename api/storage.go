package api

import (
	"net/http"
	"os"
	"strconv"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// handleCollabStorage lists a collab's kept files (copy_data_to_storage),
// paged (size, from_index), optionally of one job (job): to whoever may see
// the collab's jobs; a collab the caller cannot see is not found.
func (s *Server) handleCollabStorage(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	collab := r.PathValue("id")
	if err := s.viewCollab(r, p, collab); err != nil {
		return err
	}
	q := newQuery(r)
	size, err := s.pageSize(q, 100)
	if err != nil {
		return err
	}
	from, err := q.int("from_index", 0)
	if err != nil {
		return err
	}
	var job int64
	if v := q.str("job"); v != "" {
		if job, err = strconv.ParseInt(v, 10, 64); err != nil || job <= 0 {
			return errorf(http.StatusUnprocessableEntity, "job: %q is not a job id", v)
		}
	}
	items, total, err := s.st.DataItemKeptList(r.Context(), &store.DataItemKeptListParams{Collab: collab, JobID: job, Limit: size, Offset: max(from, 0)})
	if err != nil {
		return err
	}
	used, limit, err := s.st.StorageUsage(r.Context(), collab)
	if err != nil {
		return err
	}
	out := nmpi.CollabStorage{Collab: collab, Repository: "nmp collab storage", Total: total, FromIndex: max(from, 0),
		UsedBytes: used, LimitBytes: limit, Files: make([]nmpi.KeptFile, len(items))}
	for i, it := range items {
		f := nmpi.KeptFile{JobID: it.JobID, Path: it.Path, Size: it.Size, Hash: strp(it.Hash), ContentType: strp(it.ContentType),
			URL: s.signedURL(r, it.JobID, it.Path), Uploaded: nmpi.At(it.CreatedAt), Expires: nmpi.AtP(it.ExpiresAt)}
		if it.KeptAt != nil {
			f.Kept = nmpi.At(*it.KeptAt)
		}
		out.Files[i] = f
	}
	return reply(w, http.StatusOK, out)
}

// handleCollabStorageDelete deletes a kept file, freeing its storage: the
// job's owner, an editor of its collab, or an administrator acting as one.
func (s *Server) handleCollabStorageDelete(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	collab := r.PathValue("id")
	if err := s.viewCollab(r, p, collab); err != nil {
		return err
	}
	id, err := pathID(r, "job")
	if err != nil {
		return err
	}
	path, err := CleanPath(r.PathValue("path"))
	if err != nil {
		return errorf(http.StatusNotFound, "file: %v", err)
	}
	notFound := errorf(http.StatusNotFound, "kept file %s of job %d in collab %s: not found", path, id, collab)
	// Another collab's job is not found here, whatever the caller may do with it.
	j, err := s.viewJob(r, p, id)
	if isNotFound(err) || (err == nil && j.Collab != collab) {
		return notFound
	}
	if err != nil {
		return err
	}
	if j, err = s.editJob(r, p, id); err != nil {
		return err
	}
	it, err := s.st.DataItemGet(r.Context(), j.ID, path)
	if isNotFound(err) || (err == nil && (!it.Stored || it.ExpiresAt != nil)) {
		return notFound
	}
	if err != nil {
		return err
	}
	if _, err := s.st.DataItemDelete(r.Context(), j.ID, path); err != nil {
		return err
	}
	if s.cfg.DataDir != "" {
		_ = os.Remove(queue.FilePath(s.cfg.DataDir, j.ID, path))
	}
	s.log.InfoContext(r.Context(), "kept file deleted", "job", j.ID, "path", path, "by", p.Name())
	return reply(w, http.StatusOK, nil)
}

// viewCollab checks that the caller may see the collab's jobs (or is an
// administrator acting as one); a collab they cannot see is not found.
func (s *Server) viewCollab(r *http.Request, p *identity.Principal, collab string) error {
	if admin, err := asAdmin(r, p); err != nil {
		return err
	} else if admin {
		if _, err := s.st.CollabGet(r.Context(), collab); err != nil {
			return err
		}
		return nil
	}
	ok, err := s.canView(r.Context(), p, collab)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusNotFound, "collab %s: not found", collab)
	}
	return nil
}
