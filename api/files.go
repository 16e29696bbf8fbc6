package api

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// MaxPathLen caps the length of an output file's path.
const MaxPathLen = 1000

// CleanPath makes an output file's path safe to use below a directory, on the
// server and on the machine of the user who downloads it (the nmpi client
// writes files to local_dir/<path> as given): relative, slash-separated, no
// "..", no empty or "." segments, no control characters or backslashes.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if len(p) > MaxPathLen {
		return "", fmt.Errorf("path longer than %d bytes", MaxPathLen)
	}
	for _, r := range p {
		if r == '\\' || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "", fmt.Errorf("path %q: backslashes, control characters and invalid UTF-8 are not allowed", p)
		}
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("path %q: \"..\" is not allowed", p)
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return "", fmt.Errorf("path %q names no file", p)
	}
	return strings.Join(segs, "/"), nil
}

// sign returns the signature of a download URL.
func (s *Server) sign(jobID int64, p string, expires int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%d\n%s\n%d", jobID, p, expires)
	return hex.EncodeToString(m.Sum(nil)[:20])
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// signedURL is a download link that works without an Authorization header (the
// nmpi client downloads with urlretrieve) until it expires. The expiry is
// rounded up to the hour so that repeated reads of a job give the same links.
func (s *Server) signedURL(r *http.Request, jobID int64, p string) string {
	exp := s.now().Add(s.cfg.DownloadTTL).Truncate(time.Hour).Add(time.Hour).Unix()
	return fmt.Sprintf("%s/files/%d/%s?expires=%d&sig=%s", s.baseURL(r), jobID, escapePath(p), exp, s.sign(jobID, p, exp))
}

func (s *Server) removeFiles(jobID int64) {
	if s.cfg.DataDir == "" {
		return
	}
	_ = os.RemoveAll(filepath.Join(s.cfg.DataDir, "files", strconv.FormatInt(jobID, 10)))
}

// handleFileUpload stores an output file sent by the job's provider (PUT
// /jobs/{id}/files/{path}). The file counts against the collab's storage quota
// and is kept for the retention period. A repeated upload replaces the file.
func (s *Server) handleFileUpload(w http.ResponseWriter, r *http.Request) error {
	_, j, err := s.providerJob(r)
	if err != nil {
		return err
	}
	if lease := r.Header.Get(LeaseHeader); lease != "" && lease != j.LeaseID {
		return errorf(http.StatusConflict, "job %d: %v", j.ID, store.ErrLeaseLost)
	}
	if s.cfg.DataDir == "" {
		return errorf(http.StatusNotImplemented, "%v", errNoDataDir)
	}
	p, err := CleanPath(r.PathValue("path"))
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "path: %v", err)
	}
	dst := queue.FilePath(s.cfg.DataDir, j.ID, p)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("store file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".upload-*")
	if err != nil {
		return fmt.Errorf("store file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	h := sha1.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), http.MaxBytesReader(w, r.Body, s.cfg.MaxFileBytes))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "file %s: larger than the %d bytes this server accepts per file", p, mbe.Limit)
		}
		return errorf(http.StatusBadRequest, "file %s: upload interrupted: %v", p, err)
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == "application/octet-stream" {
		if byExt := mime.TypeByExtension(path.Ext(p)); byExt != "" {
			ct = byExt
		}
	}
	exp := s.now().Add(s.cfg.Retention)
	it, err := s.st.DataItemUpsert(r.Context(), &store.DataItemUpsertParams{
		Item:   store.DataItem{JobID: j.ID, Path: p, Size: &n, Hash: hex.EncodeToString(h.Sum(nil)), ContentType: ct, Stored: true, ExpiresAt: &exp},
		Collab: j.Collab, Now: s.now(),
	})
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("store file: %w", err)
	}
	return reply(w, http.StatusOK, nmpi.DataItem{URL: s.signedURL(r, j.ID, p), Path: it.Path, ContentType: strp(it.ContentType), Size: it.Size, Hash: strp(it.Hash)})
}

// handleFileDownload serves a stored output file to a signed URL, or to a
// caller who may view the job.
func (s *Server) handleFileDownload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := CleanPath(r.PathValue("path"))
	if err != nil {
		return errorf(http.StatusNotFound, "file: %v", err)
	}
	q := r.URL.Query()
	if sig := q.Get("sig"); sig != "" {
		exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
		if err != nil || !hmac.Equal([]byte(sig), []byte(s.sign(id, p, exp))) {
			return errorf(http.StatusForbidden, "download link for %s of job %d: bad signature", p, id)
		}
		if s.now().Unix() > exp {
			return errorf(http.StatusForbidden, "download link for %s of job %d expired at %s; read the job again for a fresh link", p, id, ts(time.Unix(exp, 0)))
		}
	} else {
		pr, err := s.caller(r)
		if err != nil {
			return err
		}
		if _, err := s.viewJob(r, pr, id); err != nil {
			return err
		}
	}
	it, err := s.st.DataItemGet(r.Context(), id, p)
	if err != nil || !it.Stored {
		return errorf(http.StatusNotFound, "file %s of job %d: not found (files are deleted when their retention period ends)", p, id)
	}
	f, err := os.Open(queue.FilePath(s.cfg.DataDir, id, p))
	if err != nil {
		return errorf(http.StatusNotFound, "file %s of job %d: not found", p, id)
	}
	defer f.Close()
	// Jobs' files are the users' content, served from the origin of the login
	// form: never let a browser run them. Raster images whose bytes say so are
	// shown inline (plots); everything else is an attachment, sandboxed.
	head := make([]byte, 512)
	nh, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read file: %w", err)
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if sniffed := http.DetectContentType(head[:nh]); rasterImage(sniffed) {
		h.Set("Content-Type", sniffed)
		h.Set("Content-Disposition", "inline; filename*=UTF-8''"+url.PathEscape(path.Base(p)))
	} else {
		ct := it.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(path.Base(p)))
	}
	if it.Hash != "" {
		h.Set("ETag", `"`+it.Hash+`"`)
	}
	http.ServeContent(w, r, path.Base(p), it.CreatedAt, f)
	return nil
}

// rasterImage tells whether a sniffed content type is a raster image, which
// browsers display without running anything (SVG is not one: it holds scripts).
func rasterImage(ct string) bool {
	switch ct {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/x-icon":
		return true
	}
	return false
}
