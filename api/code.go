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

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/nmpi"
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

func (s *Server) handleCodeUpload(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	collab := r.URL.Query().Get("collab")
	if collab == "" {
		return errorf(http.StatusUnprocessableEntity, "collab: query parameter required (the collab the code is for)")
	}
	admin, err := asAdmin(r, p)
	if err != nil {
		return err
	}
	if !p.CanEdit(collab) && !admin {
		return errorf(http.StatusForbidden, "%s may not upload code for collab %s: that needs the editor or administrator role in it", p.Name(), collab)
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
		return errorf(http.StatusUnsupportedMediaType, "code: send a tar.gz or zip archive of the code directory (the body starts with neither)")
	}
	dir := filepath.Join(s.cfg.DataDir, queue.CodeDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("code upload: %w", err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	name := hex.EncodeToString(id) + ext
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return fmt.Errorf("code upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha1.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), io.MultiReader(bytes.NewReader(head), body))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, "code: the archive is larger than this server's limit of %d bytes", s.cfg.MaxCodeBytes)
	}
	if err != nil {
		return fmt.Errorf("code upload: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("code upload: %w", err)
	}
	s.log.InfoContext(r.Context(), "code uploaded", "user", p.Name(), "collab", collab, "name", name, "bytes", size)
	w.Header().Set("Location", "/code/"+name)
	writeJSON(w, http.StatusCreated, nmpi.CodeArchive{URL: s.baseURL(r) + "/code/" + name, Size: size, Hash: hex.EncodeToString(h.Sum(nil)),
		Expires: nmpi.At(s.now().Add(s.cfg.Retention))})
	return nil
}

func (s *Server) handleCodeDownload(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if !codeName.MatchString(name) {
		return errorf(http.StatusNotFound, "code archive %q: not found", name)
	}
	f, err := os.Open(filepath.Join(s.cfg.DataDir, queue.CodeDir, name))
	if err != nil {
		return errorf(http.StatusNotFound, "code archive %s: not found (archives are deleted when their retention period ends)", name)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	ct := "application/gzip"
	if filepath.Ext(name) == ".zip" {
		ct = "application/zip"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, name, fi.ModTime().Truncate(time.Second), f)
	return nil
}
