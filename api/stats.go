package api

import (
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/store"
)

// Statistics, in the reference server's shapes. They are public, except per-user.

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
	}
	return
}

func (s *Server) statsPlatforms() []string {
	var out []string
	for _, p := range s.cfg.PlatformTable.Names() {
		if row, _ := s.cfg.PlatformTable.Lookup(p); !row.TestOnly {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) completed(r *http.Request, from, to time.Time) ([]store.Job, error) {
	return s.st.JobList(r.Context(), &store.JobListParams{Status: []string{store.StatusFinished, store.StatusError}, CompletedFrom: &from, CompletedTo: &to, Oldest: true})
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
	jobs, err := s.completed(r, start, end.AddDate(0, 0, 1))
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
	for _, j := range jobs {
		i := int(day(*j.CompletedAt).Sub(start).Hours()/24) / interval
		if i >= len(out) && !day(*j.CompletedAt).After(end) {
			i = len(out) - 1 // the last bin includes the end day, as numpy's histogram does
		}
		if i >= 0 && i < len(out) {
			out[i].Count[j.HardwarePlatform]++
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

func cumulative(dates []time.Time, today time.Time) timeSeries {
	sort.Slice(dates, func(i, j int) bool { return dates[i].Before(dates[j]) })
	ts := timeSeries{Dates: []string{}, Values: []int{}}
	for i, d := range dates {
		ts.Dates = append(ts.Dates, dstr(d))
		ts.Values = append(ts.Values, i+1)
	}
	ts.Dates = append(ts.Dates, dstr(today))
	ts.Values = append(ts.Values, len(dates))
	return ts
}

func (s *Server) handleStatsCumulativeUserCount(w http.ResponseWriter, r *http.Request) error {
	jobs, err := s.st.JobList(r.Context(), &store.JobListParams{HardwarePlatform: newQuery(r).list("hardware_platform"), Oldest: true, IncludeRemoved: true})
	if err != nil {
		return err
	}
	first := map[string]time.Time{}
	for _, j := range jobs {
		if _, ok := first[j.UserID]; !ok {
			first[j.UserID] = day(j.SubmittedAt)
		}
	}
	var dates []time.Time
	for _, d := range first {
		dates = append(dates, d)
	}
	return reply(w, http.StatusOK, cumulative(dates, day(s.now())))
}

func (s *Server) handleStatsActiveUserCount(w http.ResponseWriter, r *http.Request) error {
	start, end, interval, err := s.statsRange(r)
	if err != nil {
		return err
	}
	from := start.AddDate(0, 0, -90)
	to := end.AddDate(0, 0, 1)
	jobs, err := s.st.JobList(r.Context(), &store.JobListParams{SubmittedFrom: &from, SubmittedTo: &to, IncludeRemoved: true, Oldest: true})
	if err != nil {
		return err
	}
	out := []dateRangeCount{}
	var edges []time.Time
	for b := start; b.Before(end); b = b.AddDate(0, 0, interval) {
		edges = append(edges, b)
	}
	edges = append(edges, end)
	for i := 0; i+1 < len(edges); i++ {
		periodEnd := edges[i+1]
		active := map[string]map[string]bool{}
		for _, j := range jobs {
			if j.SubmittedAt.Before(periodEnd.AddDate(0, 0, -90)) || !j.SubmittedAt.Before(periodEnd.AddDate(0, 0, 1)) {
				continue
			}
			if active[j.HardwarePlatform] == nil {
				active[j.HardwarePlatform] = map[string]bool{}
			}
			active[j.HardwarePlatform][j.UserID] = true
		}
		c := map[string]int{}
		for _, p := range s.statsPlatforms() {
			c[p] = len(active[p])
		}
		out = append(out, dateRangeCount{Start: dstr(edges[i]), End: dstr(periodEnd), Count: c})
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
	if err != nil || nBins == 0 {
		return errorf(http.StatusUnprocessableEntity, "n_bins: a positive integer")
	}
	reqMax, err := q.int("requested_max", 0)
	if err != nil {
		return err
	}
	scale := q.str("scale")
	if scale != "log" {
		scale = "linear"
	}
	out := []histogram{}
	for _, status := range []string{store.StatusFinished, store.StatusError} {
		for _, p := range s.statsPlatforms() {
			jobs, err := s.st.JobList(r.Context(), &store.JobListParams{Status: []string{status}, HardwarePlatform: []string{p}})
			if err != nil {
				return err
			}
			var ds []float64
			for _, j := range jobs {
				if j.CompletedAt != nil && !j.CompletedAt.Before(j.SubmittedAt) {
					ds = append(ds, j.CompletedAt.Sub(j.SubmittedAt).Seconds())
				}
			}
			if len(ds) == 0 {
				continue
			}
			max := float64(reqMax)
			if reqMax == 0 {
				m := 0.0
				for _, d := range ds {
					m = math.Max(m, d)
				}
				max = (math.Floor(m/float64(nBins)) + 1) * float64(nBins)
			}
			h := histogram{Platform: p, Status: status, Values: make([]int, nBins), Bins: make([]float64, nBins+1), Scale: scale, Max: max}
			lo, hi := 0.0, max
			if scale == "log" {
				hi = math.Ceil(math.Log10(math.Max(max, 1)))
			}
			for i := range h.Bins {
				h.Bins[i] = lo + (hi-lo)*float64(i)/float64(nBins)
			}
			for _, d := range ds {
				x := d
				if scale == "log" {
					x = math.Log10(math.Max(d, 1))
				}
				i := int((x - lo) / (hi - lo) * float64(nBins))
				if i == nBins && x == hi {
					i--
				}
				if i >= 0 && i < nBins {
					h.Values[i]++
				}
			}
			out = append(out, h)
		}
	}
	return reply(w, http.StatusOK, out)
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
	var dates []time.Time
	for _, p := range ps {
		if p.SubmissionDate != nil {
			dates = append(dates, day(*p.SubmissionDate))
		}
	}
	return reply(w, http.StatusOK, cumulative(dates, day(s.now())))
}

func (s *Server) handleStatsResourceUsage(w http.ResponseWriter, r *http.Request) error {
	start, end, interval, err := s.statsRange(r)
	if err != nil {
		return err
	}
	jobs, err := s.completed(r, start, end.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	out := []dateRangeQuantity{}
	sum := map[string]float64{}
	for b := start; !b.After(end); b = b.AddDate(0, 0, interval) {
		next := b.AddDate(0, 0, interval)
		for _, j := range jobs {
			c := day(*j.CompletedAt)
			if !c.Before(b) && c.Before(next) && j.ResourceUsage != nil {
				sum[j.HardwarePlatform] += *j.ResourceUsage
			}
		}
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
	jobs, err := s.st.JobList(r.Context(), &store.JobListParams{SubmittedFrom: &start, SubmittedTo: &to, IncludeRemoved: true, Oldest: true})
	if err != nil {
		return err
	}
	by := map[string]*userStats{}
	for _, j := range jobs {
		u := by[j.UserID]
		if u == nil {
			u = &userStats{UserID: j.UserID, JobCount: map[string]int{}, ResourceUsage: map[string]float64{}}
			by[j.UserID] = u
		}
		u.JobCount[j.HardwarePlatform]++
		if j.ResourceUsage != nil {
			u.ResourceUsage[j.HardwarePlatform] += *j.ResourceUsage
		}
	}
	out := []userStats{}
	for _, u := range by {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return reply(w, http.StatusOK, out)
}
