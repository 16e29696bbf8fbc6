package api

import (
	"bytes"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/store"
)

// Statistics, in the reference server's shapes. They are public, as on the
// reference server (its dashboards read them without logging in), except
// per-user. They are aggregated by the store (counts and sums per platform and
// day, never job rows) and bounded: at most MaxStatsIntervals intervals, and at
// most statsConcurrency computations at once.

type dateRangeCount struct {
	Start string         `json:"start"`
	End   string         `json:"end"`
	Count map[string]int `json:"count"`
}

type dateRangeQuantity struct {
	Start string             `json:"start"`
	End   string             `json:"end"`
	Value map[string]float64 `json:"value"`
}

type timeSeries struct {
	Dates  []string `json:"dates"`
	Values []int    `json:"values"`
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

func dstr(t time.Time) string { return t.Format("2006-01-02") }

// statsRange reads start, end (dates; default the last 30 days) and interval (days, default 7).
func (s *Server) statsRange(r *http.Request) (start, end time.Time, interval int, err error) {
	q := newQuery(r)
	sp, err := q.date("start")
	if err != nil {
		return
	}
	ep, err := q.date("end")
	if err != nil {
		return
	}
	if interval, err = q.int("interval", 7); err != nil {
		return
	}
	if interval == 0 {
		err = errorf(http.StatusUnprocessableEntity, "interval: must be at least 1 day")
		return
	}
	end = day(s.now())
	if ep != nil {
		end = day(*ep)
	}
	start = end.AddDate(0, 0, -30)
	if sp != nil {
		start = day(*sp)
	}
	if end.Before(start) {
		err = errorf(http.StatusUnprocessableEntity, "end: %s is before start %s", dstr(end), dstr(start))
		return
	}
	if interval > 100000 {
		err = errorf(http.StatusUnprocessableEntity, "interval: %d days is more than 100000", interval)
		return
	}
	if bins := int((end.Unix()-start.Unix())/86400)/interval + 1; bins > MaxStatsIntervals {
		err = errorf(http.StatusUnprocessableEntity, "interval: %d days from %s to %s make %d intervals; at most %d are answered (choose a larger interval or a later start)",
			interval, dstr(start), dstr(end), bins, MaxStatsIntervals)
	}
	return
}

// MaxStatsIntervals bounds the intervals of one statistics answer.
const MaxStatsIntervals = 1000

func (s *Server) statsPlatforms() []string {
	var out []string
	for _, p := range s.cfg.PlatformTable.Names() {
		if row, _ := s.cfg.PlatformTable.Lookup(p); !row.TestOnly {
			out = append(out, p)
		}
	}
	return out
}

// daily returns the completed jobs' counts and usage per platform and completion day.
func (s *Server) daily(r *http.Request, from, to time.Time) ([]store.JobStat, error) {
	return s.st.JobStats(r.Context(), &store.JobStatsParams{Completed: true, From: &from, To: &to, ByDay: true})
}

// statsSlot waits for one of the statistics' computation slots; release it with the function returned.
func (s *Server) statsSlot(r *http.Request) (func(), error) {
	select {
	case s.statsSem <- struct{}{}:
		return func() { <-s.statsSem }, nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

func (s *Server) handleStatsJobCount(w http.ResponseWriter, r *http.Request) error {
	out, err := s.jobCounts(r)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, out)
}

func (s *Server) jobCounts(r *http.Request) ([]dateRangeCount, error) {
	start, end, interval, err := s.statsRange(r)
	if err != nil {
		return nil, err
	}
	done, err := s.statsSlot(r)
	if err != nil {
		return nil, err
	}
	defer done()
	days, err := s.daily(r, start, end.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	out := []dateRangeCount{}
	for b := start; b.Before(end); b = b.AddDate(0, 0, interval) {
		c := map[string]int{}
		for _, p := range s.statsPlatforms() {
			c[p] = 0
		}
		out = append(out, dateRangeCount{Start: dstr(b), End: dstr(b.AddDate(0, 0, interval)), Count: c})
	}
	for _, d := range days {
		i := int(d.Day.Sub(start).Hours()/24) / interval
		if i >= len(out) && !d.Day.After(end) {
			i = len(out) - 1 // the last bin includes the end day, as numpy's histogram does
		}
		if i >= 0 && i < len(out) {
			if _, ok := out[i].Count[d.Platform]; ok {
				out[i].Count[d.Platform] += d.Count
			}
		}
	}
	return out, nil
}

func (s *Server) handleStatsCumulativeJobCount(w http.ResponseWriter, r *http.Request) error {
	out, err := s.jobCounts(r)
	if err != nil {
		return err
	}
	sum := map[string]int{}
	for _, e := range out {
		for p, n := range e.Count {
			sum[p] += n
			e.Count[p] = sum[p]
		}
	}
	return reply(w, http.StatusOK, out)
}

// cumulative is the running count of what the days count, ending today.
func cumulative(days []store.DayCount, today time.Time) timeSeries {
	sort.Slice(days, func(i, j int) bool { return days[i].Day.Before(days[j].Day) })
	ts := timeSeries{Dates: []string{}, Values: []int{}}
	n := 0
	for _, d := range days {
		// one point per user (or project), as the reference server draws them
		for range d.Count {
			n++
			ts.Dates = append(ts.Dates, dstr(d.Day))
			ts.Values = append(ts.Values, n)
		}
	}
	ts.Dates = append(ts.Dates, dstr(today))
	ts.Values = append(ts.Values, n)
	return ts
}

func (s *Server) handleStatsCumulativeUserCount(w http.ResponseWriter, r *http.Request) error {
	done, err := s.statsSlot(r)
	if err != nil {
		return err
	}
	defer done()
	days, err := s.st.JobUserFirstDays(r.Context(), newQuery(r).list("hardware_platform"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, cumulative(days, day(s.now())))
}

func (s *Server) handleStatsActiveUserCount(w http.ResponseWriter, r *http.Request) error {
	start, end, interval, err := s.statsRange(r)
	if err != nil {
		return err
	}
	done, err := s.statsSlot(r)
	if err != nil {
		return err
	}
	defer done()
	var edges []time.Time
	for b := start; b.Before(end); b = b.AddDate(0, 0, interval) {
		edges = append(edges, b)
	}
	edges = append(edges, end)
	out := make([]dateRangeCount, 0, len(edges))
	counts := make([]map[string]int, len(edges)-1)
	for i := range counts {
		counts[i] = map[string]int{}
	}
	// A user is active in a period when they submitted a job in the
	// store.ActiveDays days up to its end: the store counts them per day
	// from its aggregates.
	ends := edges[1:]
	if len(ends) > 0 {
		rows, err := s.st.JobActiveUsers(r.Context(), ends)
		if err != nil {
			return err
		}
		i := 0
		for _, x := range rows {
			for i < len(ends) && ends[i].Before(x.Day) {
				i++
			}
			if i < len(ends) && ends[i].Equal(x.Day) {
				counts[i][x.Platform] = x.Count
			}
		}
	}
	for i := 0; i+1 < len(edges); i++ {
		c := map[string]int{}
		for _, p := range s.statsPlatforms() {
			c[p] = counts[i][p]
		}
		out = append(out, dateRangeCount{Start: dstr(edges[i]), End: dstr(edges[i+1]), Count: c})
	}
	return reply(w, http.StatusOK, out)
}

type queueStatus struct {
	QueueName string `json:"queue_name"`
	Running   int    `json:"running"`
	Submitted int    `json:"submitted"`
}

func (s *Server) handleStatsQueueLength(w http.ResponseWriter, r *http.Request) error {
	out := []queueStatus{}
	for _, p := range s.statsPlatforms() {
		run, err := s.st.JobCount(r.Context(), &store.JobCountParams{HardwarePlatform: p, Status: store.StatusRunning})
		if err != nil {
			return err
		}
		sub, err := s.st.JobCount(r.Context(), &store.JobCountParams{HardwarePlatform: p, Status: store.StatusSubmitted})
		if err != nil {
			return err
		}
		out = append(out, queueStatus{QueueName: p, Running: run, Submitted: sub})
	}
	return reply(w, http.StatusOK, out)
}

type histogram struct {
	Platform string    `json:"platform"`
	Status   string    `json:"status"`
	Values   []int     `json:"values"`
	Bins     []float64 `json:"bins"`
	Scale    string    `json:"scale"`
	Max      float64   `json:"max"`
}

func (s *Server) handleStatsJobDuration(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	nBins, err := q.int("n_bins", 50)
	if err != nil || nBins == 0 || nBins > MaxStatsIntervals {
		return errorf(http.StatusUnprocessableEntity, "n_bins: a positive integer, at most %d", MaxStatsIntervals)
	}
	reqMax, err := q.int("requested_max", 0)
	if err != nil {
		return err
	}
	scale := q.str("scale")
	if scale != "log" {
		scale = "linear"
	}
	done, err := s.statsSlot(r)
	if err != nil {
		return err
	}
	defer done()
	maxes, err := s.st.JobDurationMax(r.Context())
	if err != nil {
		return err
	}
	longest := map[[2]string]int64{}
	for _, d := range maxes {
		longest[[2]string{d.Status, d.Platform}] = d.Seconds
	}
	var perSecond map[[2]string][]store.JobDuration // read only when bins are degenerate
	out := []histogram{}
	for _, status := range []string{store.StatusFinished, store.StatusError} {
		for _, p := range s.statsPlatforms() {
			m, ok := longest[[2]string{status, p}]
			if !ok {
				continue
			}
			max := float64(reqMax)
			if reqMax == 0 {
				max = (math.Floor(float64(m)/float64(nBins)) + 1) * float64(nBins)
			}
			h := histogram{Platform: p, Status: status, Values: make([]int, nBins), Bins: make([]float64, nBins+1), Scale: scale, Max: max}
			b := durationBins{n: nBins, hi: max, log: scale == "log"}
			if b.log {
				b.hi = math.Ceil(math.Log10(math.Max(max, 1)))
			}
			for i := range h.Bins {
				h.Bins[i] = b.lo + (b.hi-b.lo)*float64(i)/float64(nBins)
			}
			if b.hi > b.lo {
				// A bin is a range of whole seconds (bin grows with the
				// seconds): its first second is found by bisection, and the
				// store sums the jobs in each range.
				edges := make([]int64, nBins+1)
				for i := range edges {
					edges[i] = int64(sort.Search(int(m)+1, func(sec int) bool { return b.bin(int64(sec)) >= i }))
				}
				counts, err := s.st.JobDurationHistogram(r.Context(), status, p, edges)
				if err != nil {
					return err
				}
				copy(h.Values, counts)
			} else {
				// No range of seconds maps onto the bins in order: bin each second.
				if perSecond == nil {
					all, err := s.st.JobDurations(r.Context())
					if err != nil {
						return err
					}
					perSecond = map[[2]string][]store.JobDuration{}
					for _, d := range all {
						k := [2]string{d.Status, d.Platform}
						perSecond[k] = append(perSecond[k], d)
					}
				}
				for _, d := range perSecond[[2]string{status, p}] {
					if i := b.bin(d.Seconds); i >= 0 && i < nBins {
						h.Values[i] += d.Count
					}
				}
			}
			out = append(out, h)
		}
	}
	return reply(w, http.StatusOK, out)
}

// durationBins puts whole seconds of duration into n bins from lo to hi,
// of the seconds or (log) of their decimal logarithm. A bin out of [0, n)
// is not drawn.
type durationBins struct {
	lo, hi float64
	n      int
	log    bool
}

func (b durationBins) bin(sec int64) int {
	x := float64(sec)
	if b.log {
		x = math.Log10(math.Max(x, 1))
	}
	i := int((x - b.lo) / (b.hi - b.lo) * float64(b.n))
	if i == b.n && x == b.hi {
		i-- // the last bin includes its upper edge
	}
	return i
}

func (s *Server) handleStatsCumulativeProjectCount(w http.ResponseWriter, r *http.Request) error {
	status := newQuery(r).str("status")
	if status == "" {
		status = store.ProjectAccepted
	}
	ps, err := s.st.ProjectList(r.Context(), &store.ProjectListParams{Status: status})
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "status: %v", err)
	}
	perDay := map[time.Time]int{}
	for _, p := range ps {
		if p.SubmissionDate != nil {
			perDay[day(*p.SubmissionDate)]++
		}
	}
	days := make([]store.DayCount, 0, len(perDay))
	for d, n := range perDay {
		days = append(days, store.DayCount{Day: d, Count: n})
	}
	return reply(w, http.StatusOK, cumulative(days, day(s.now())))
}

func (s *Server) handleStatsResourceUsage(w http.ResponseWriter, r *http.Request) error {
	start, end, interval, err := s.statsRange(r)
	if err != nil {
		return err
	}
	done, err := s.statsSlot(r)
	if err != nil {
		return err
	}
	defer done()
	days, err := s.daily(r, start, end.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	out := []dateRangeQuantity{}
	sum := map[string]float64{}
	k := 0 // days are in platform order; index them by bin instead
	byBin := map[int]map[string]float64{}
	for _, d := range days {
		i := int(d.Day.Sub(start).Hours()/24) / interval
		if byBin[i] == nil {
			byBin[i] = map[string]float64{}
		}
		byBin[i][d.Platform] += d.Usage
	}
	for b := start; !b.After(end); b = b.AddDate(0, 0, interval) {
		next := b.AddDate(0, 0, interval)
		for p, u := range byBin[k] {
			sum[p] += u
		}
		k++
		v := map[string]float64{}
		for _, p := range s.statsPlatforms() {
			v[p] = sum[p]
		}
		out = append(out, dateRangeQuantity{Start: dstr(b), End: dstr(next), Value: v})
	}
	return reply(w, http.StatusOK, out)
}

type userStats struct {
	UserID        string             `json:"user_id"`
	JobCount      map[string]int     `json:"job_count"`
	ResourceUsage map[string]float64 `json:"resource_usage"`
}

// handleStatsPerUser (administrators): jobs and usage per user and platform.
func (s *Server) handleStatsPerUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) error {
	if !p.Admin() {
		return errorf(http.StatusForbidden, "per-user statistics are for platform administrators")
	}
	start, end, _, err := s.statsRange(r)
	if err != nil {
		return err
	}
	to := end.AddDate(0, 0, 1)
	rows, err := s.st.JobStats(r.Context(), &store.JobStatsParams{From: &start, To: &to, ByUser: true})
	if err != nil {
		return err
	}
	by := map[string]*userStats{}
	for _, x := range rows {
		u := by[x.User]
		if u == nil {
			u = &userStats{UserID: x.User, JobCount: map[string]int{}, ResourceUsage: map[string]float64{}}
			by[x.User] = u
		}
		u.JobCount[x.Platform] += x.Count
		if x.Usage != 0 {
			u.ResourceUsage[x.Platform] += x.Usage
		}
	}
	out := []userStats{}
	for _, u := range by {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return reply(w, http.StatusOK, out)
}

// statsCacheTTL is how long a public statistics answer is served again
// without being computed: dashboards poll them, and they change slowly.
const statsCacheTTL = 30 * time.Second

type cachedAnswer struct {
	body    []byte
	expires time.Time
}

// statsCached serves h's successful answers from a small cache, keyed by the
// path and query, so that many callers asking the same cost one computation.
func (s *Server) statsCached(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.URL.Path + "?" + r.URL.RawQuery
		now := s.now()
		s.statsMu.Lock()
		c, ok := s.statsCache[key]
		s.statsMu.Unlock()
		if ok && now.Before(c.expires) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(c.body)
			return nil
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		if err := h(rec, r); err != nil {
			return err
		}
		if rec.status == http.StatusOK {
			s.statsMu.Lock()
			if len(s.statsCache) >= 256 {
				clear(s.statsCache) // bounded: hostile callers vary the query
			}
			s.statsCache[key] = cachedAnswer{body: rec.body.Bytes(), expires: now.Add(statsCacheTTL)}
			s.statsMu.Unlock()
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
		return nil
	}
}

// recorder keeps an answer in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
