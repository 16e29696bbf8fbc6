package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/nmp-platform/nmp/queue"
)

// Code uploads are nmp's stand-in for the EBRAINS Drive folder that the nmpi
// client uploads a local directory to (its drive:// code): a client packs the
// directory as a tar.gz or zip archive, POSTs it to /code?collab=NAME, and
// submits a job whose code is the URL it gets back. The URL names the archive
// by 128 random bits and downloads without credentials, as output files do, so
// that workers fetch it like any archive URL; anyone who can see the job can
// see its code, as with any other code URL. Archives are kept for the storage
// retention period (the cleaner deletes them) and are not charged to storage
// quotas; MaxCodeBytes caps each one.

var codeName = regexp.MustCompile(`^[0-9a-f]{32}\.(tar\.gz|zip)$`)

type codeJSON struct {
	URL     string `json:"url"`
	Size    int64  `json:"size"`
	Hash    string `json:"hash"`
	Expires string `json:"expires"`
}

func (s *Server) handleCodeUpload(w http.ResponseWriter, r *http.Request) {
	p, err := s.user(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	collab := r.URL.Query().Get("collab")
	if collab == "" {
		s.fail(w, r, errorf(http.StatusUnprocessableEntity, "collab: query parameter required (the collab the code is for)"))
		return
	}
	admin, err := asAdmin(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !p.CanEdit(collab) && !admin {
		s.fail(w, r, errorf(http.StatusForbidden, "%s may not upload code for collab %s: that needs the editor or administrator role in it", p.Name(), collab))
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxCodeBytes)
	head := make([]byte, 4)
	n, _ := io.ReadFull(body, head)
	head = head[:n]
	ext := ""
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		ext = ".tar.gz"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		ext = ".zip"
	default:
		s.fail(w, r, errorf(http.StatusUnsupportedMediaType, "code: send a tar.gz or zip archive of the code directory (the body starts with neither)"))
		return
	}
	dir := filepath.Join(s.cfg.DataDir, queue.CodeDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.fail(w, r, fmt.Errorf("code upload: %w", err))
		return
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	name := hex.EncodeToString(id) + ext
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		s.fail(w, r, fmt.Errorf("code upload: %w", err))
		return
	}
	defer os.Remove(tmp.Name())
	h := sha1.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), io.MultiReader(bytes.NewReader(head), body))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.fail(w, r, errorf(http.StatusRequestEntityTooLarge, "code: the archive is larger than this server's limit of %d bytes", s.cfg.MaxCodeBytes))
		return
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("code upload: %w", err))
		return
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		s.fail(w, r, fmt.Errorf("code upload: %w", err))
		return
	}
	s.log.InfoContext(r.Context(), "code uploaded", "user", p.Name(), "collab", collab, "name", name, "bytes", size)
	w.Header().Set("Location", "/code/"+name)
	writeJSON(w, http.StatusCreated, codeJSON{URL: s.baseURL(r) + "/code/" + name, Size: size, Hash: hex.EncodeToString(h.Sum(nil)),
		Expires: ts(s.now().Add(s.cfg.Retention))})
}

func (s *Server) handleCodeDownload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !codeName.MatchString(name) {
		s.fail(w, r, errorf(http.StatusNotFound, "code archive %q: not found", name))
		return
	}
	f, err := os.Open(filepath.Join(s.cfg.DataDir, queue.CodeDir, name))
	if err != nil {
		s.fail(w, r, errorf(http.StatusNotFound, "code archive %s: not found (archives are deleted when their retention period ends)", name))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ct := "application/gzip"
	if filepath.Ext(name) == ".zip" {
		ct = "application/zip"
	}
	w.Header().Set("Content-Type", ct)
	http.ServeContent(w, r, name, fi.ModTime().Truncate(time.Second), f)
}
