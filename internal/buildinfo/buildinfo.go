// Package buildinfo tells which nmp this is, for provenance records and --version.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// version is set at link time: -ldflags "-X github.com/nmp-platform/nmp/internal/buildinfo.version=v0.1.0".
var version = ""

var once sync.Once
var cached string

// Version returns the release version if one was linked in, else the VCS revision
// the binary was built from (with "+dirty" for uncommitted changes), else "devel".
func Version() string {
	once.Do(func() {
		cached = compute()
	})
	return cached
}

func compute() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel-" + rev + dirty
}
