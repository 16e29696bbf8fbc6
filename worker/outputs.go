package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/nmp-platform/nmp/provider"
)

// uploadOutputs uploads every file the job wrote to its working directory
// (new files, and files of its code or inputs that it changed). Only regular
// files the job's user owns are taken; links are not followed. By the time
// this runs every process of the job is gone, so nothing can swap a file for
// a link behind the worker's back.
func (r *jobRun) uploadOutputs(ctx context.Context) ([]map[string]any, error) {
	type out struct {
		rel, full string
		size      int64
	}
	var found []out
	skipped := 0
	err := filepath.WalkDir(r.work, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p == filepath.Join(r.work, ".git") {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if b, ok := r.before[p]; ok && b.size == fi.Size() && b.mtime.Equal(fi.ModTime()) {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && r.uid > 0 && int(st.Uid) != r.uid {
			skipped++
			return nil
		}
		rel, err := filepath.Rel(r.work, p)
		if err != nil {
			return nil
		}
		found = append(found, out{filepath.ToSlash(rel), p, fi.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if skipped > 0 {
		r.log.printf("%d files in the job's directory are not the job's own and were not uploaded", skipped)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].rel < found[j].rel })
	if n := r.w.cfg.MaxOutputFiles; len(found) > n {
		r.log.printf("the job wrote %d files; only the first %d (by name) are uploaded", len(found), n)
		found = found[:n]
	}
	var items []map[string]any
	var total int64
	for _, f := range found {
		if why := badOutputName(f.rel); why != "" {
			r.log.printf("output file %q not uploaded: %s", f.rel, why)
			continue
		}
		var ct string
		var size int64
		err := r.w.retry(ctx, "upload "+f.rel, func(ctx context.Context) error {
			file, err := os.OpenFile(f.full, os.O_RDONLY|noFollow, 0)
			if err != nil {
				return err
			}
			defer file.Close()
			fi, err := file.Stat()
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("%s is no longer a regular file", f.rel)
			}
			ct = contentType(f.rel, file)
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				return err
			}
			size = fi.Size()
			it, err := r.w.client.Upload(ctx, r.job, f.rel, file, ct)
			if err != nil {
				return err
			}
			if it.ContentType != nil {
				ct = *it.ContentType
			}
			return nil
		})
		var ae *provider.APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusUnprocessableEntity || ae.Status == http.StatusRequestEntityTooLarge) {
			// The server refuses this file (its name or its size): the others still go.
			r.log.printf("output file %q not uploaded: %s", f.rel, ae.Detail)
			continue
		}
		if err != nil {
			return items, fmt.Errorf("%s: %w", f.rel, err)
		}
		total += size
		items = append(items, map[string]any{"path": f.rel, "bytes": size, "content_type": ct})
	}
	if len(items) > 0 {
		r.log.printf("uploaded %d output files (%s)", len(items), Bytes(total))
	}
	return items, nil
}

// badOutputName tells why the server would refuse a file's path (its rules:
// api.CleanPath), or "" when it would take it.
func badOutputName(rel string) string {
	if len(rel) > 1000 {
		return "its path is longer than 1000 bytes"
	}
	if !utf8.ValidString(rel) {
		return "its name is not valid UTF-8"
	}
	for _, c := range rel {
		if c == '\\' {
			return "its name has a backslash, which breaks paths on the machines that download it"
		}
		if unicode.IsControl(c) {
			return "its name has a control character"
		}
	}
	return ""
}

// contentType guesses a file's type from its name, else from its first bytes.
func contentType(name string, r io.Reader) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(r, head)
	return http.DetectContentType(head[:n])
}
