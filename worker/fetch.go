package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// Kinds of job code, as the guidebook allows them.
const (
	codeScript  = "script"  // the script itself, pasted into the job
	codeGit     = "git"     // a public git repository URL, cloned shallowly
	codeArchive = "archive" // a zip or tar.gz URL (also nmp's uploaded directories, POST /code)
	codeURL     = "url"     // a URL of neither form by its name: fetched and looked at
)

// errUser marks job failures caused by the job itself (its code, inputs or
// command), as opposed to failures of the worker or the platform.
var errUser = errors.New("job")

func userErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUser, fmt.Sprintf(format, args...))
}

var urlLike = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://\S*$`)

// classifyCode tells what a job's code field holds.
func classifyCode(code string) (kind string, u *url.URL, err error) {
	c := strings.TrimSpace(code)
	if !urlLike.MatchString(c) {
		return codeScript, nil, nil
	}
	u, err = url.Parse(c)
	if err != nil {
		return "", nil, userErrorf("code: %q looks like a URL but is not one: %v", c, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "drive":
		return "", nil, userErrorf("code: %s is an EBRAINS Drive folder, and nmp has no EBRAINS Drive: upload the directory with 'nmp submit DIR' (or POST /code) and submit the URL it gives", c)
	case "git":
		return codeGit, u, nil
	case "http", "https":
	default:
		return "", nil, userErrorf("code: URLs must be http, https or git, not %s", u.Scheme)
	}
	if u.Host == "" {
		return "", nil, userErrorf("code: URL %s has no host", c)
	}
	p := strings.ToLower(u.Path)
	switch {
	case strings.HasSuffix(p, ".git"):
		return codeGit, u, nil
	case strings.HasSuffix(p, ".zip"), strings.HasSuffix(p, ".tar.gz"), strings.HasSuffix(p, ".tgz"),
		strings.HasSuffix(p, ".tar"), strings.HasSuffix(p, ".tar.bz2"):
		return codeArchive, u, nil
	}
	return codeURL, u, nil
}

// fetcher downloads code archives and input data. It refuses loopback,
// private, link-local and other non-public addresses (a job must not make
// the worker fetch from the worker's own network: cloud metadata services,
// databases, admin pages), except the job queue server itself and unless
// AllowPrivate is set. The address is checked after resolution and the
// connection goes to the checked address, so DNS rebinding cannot slip past.
type fetcher struct {
	client       *http.Client
	allowPrivate bool
	// server is the host:port of the job queue server, always allowed.
	server string
}

func newFetcher(serverURL string, allowPrivate bool, timeout time.Duration) *fetcher {
	f := &fetcher{allowPrivate: allowPrivate}
	if u, err := url.Parse(serverURL); err == nil {
		f.server = hostPort(u)
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           f.dial,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
	}
	f.client = &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("more than 10 redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to a %s URL", req.URL.Scheme)
		}
		return nil
	}}
	return f
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "git":
			port = "9418"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// publicIP tells whether an address is one jobs may make the worker reach.
func publicIP(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() ||
		// carrier-grade NAT and other shared or reserved ranges
		(ip.To4() != nil && (ip.To4()[0] == 100 && ip.To4()[1]&0xc0 == 64 || ip.To4()[0] == 0 || ip.To4()[0] >= 240)))
}

// checkHost resolves the host of addr (host:port) and returns an address to
// dial, refusing non-public ones.
func (f *fetcher) checkHost(ctx context.Context, addr string) (string, error) {
	if f.allowPrivate || addr == f.server {
		return addr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", err
	}
	for _, ip := range ips {
		if publicIP(ip.IP) {
			return net.JoinHostPort(ip.IP.String(), port), nil
		}
	}
	return "", fmt.Errorf("%s resolves only to non-public addresses (%v); workers fetch only from public hosts and the job queue server", host, ips)
}

func (f *fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	target, err := f.checkHost(ctx, addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, target)
}

// download fetches u into the file dst, refusing more than max bytes. It
// returns the size and SHA-256 of what it wrote.
func (f *fetcher) download(ctx context.Context, u, dst string, max int64) (int64, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("User-Agent", "nmp-worker")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("%s answered %s", u, resp.Status)
	}
	if max > 0 && resp.ContentLength > max {
		return 0, "", fmt.Errorf("%s is %s, more than the limit of %s", u, Bytes(resp.ContentLength), Bytes(max))
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o644)
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	var src io.Reader = resp.Body
	if max > 0 {
		src = io.LimitReader(resp.Body, max+1)
	}
	n, err := io.Copy(io.MultiWriter(out, h), src)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, "", fmt.Errorf("%s: %w", u, err)
	}
	if max > 0 && n > max {
		return n, "", fmt.Errorf("%s is larger than the limit of %s", u, Bytes(max))
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// inputName is the file name an input data item is saved under in the job's
// directory: its path if it has one, else the last segment of its URL.
func inputName(rawURL, p string, i int) (string, error) {
	name := p
	if name == "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", userErrorf("input_data[%d]: %q is not a URL: %v", i, rawURL, err)
		}
		name = path.Base(u.Path)
	}
	clean, err := cleanEntryName(name)
	if err != nil || clean == "" || clean == "." || clean == "/" {
		return fmt.Sprintf("input-%d", i+1), nil
	}
	return clean, nil
}
