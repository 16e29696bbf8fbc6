package store

import (
	"context"
	"encoding/json"
	"time"
)

// Store is everything the server keeps. All methods are safe for concurrent use.
type Store interface {
	// Close releases the database connections.
	Close() error

	UserCreate(ctx context.Context, p *UserCreateParams) (*User, error)
	UserGet(ctx context.Context, username string) (*User, error)
	UserList(ctx context.Context) ([]User, error)
	UserUpdate(ctx context.Context, p *UserUpdateParams) (*User, error)

	CollabCreate(ctx context.Context, p *CollabCreateParams) (*Collab, error)
	CollabGet(ctx context.Context, name string) (*Collab, error)
	CollabList(ctx context.Context) ([]Collab, error)
	// CollabMemberSet adds the user to the collab, or changes their role.
	CollabMemberSet(ctx context.Context, p *Member) error
	CollabMemberRemove(ctx context.Context, collab, username string) error
	// CollabMemberList lists the members of a collab, or with collab "" the
	// collabs a user belongs to (username set).
	CollabMemberList(ctx context.Context, p *CollabMemberListParams) ([]Member, error)

	TokenCreate(ctx context.Context, t *Token) error
	// TokenGetByHash returns the token with this hash, whether or not it is valid.
	TokenGetByHash(ctx context.Context, hash string) (*Token, error)
	TokenList(ctx context.Context, username string) ([]Token, error)
	TokenRevoke(ctx context.Context, id string, at time.Time) error

	ProviderCreate(ctx context.Context, p *Provider) error
	ProviderGet(ctx context.Context, name string) (*Provider, error)
	ProviderList(ctx context.Context) ([]Provider, error)
	APIKeyCreate(ctx context.Context, k *APIKey) error
	APIKeyGetByHash(ctx context.Context, hash string) (*APIKey, error)
	APIKeyRevoke(ctx context.Context, id string, at time.Time) error

	// JobInsert stores a new job. When Reserve is set it first reserves quota in
	// the same transaction: ErrQuotaExceeded when no accepted quota of the
	// collab on the platform has room. A job with an IdempotencyKey that its
	// user has used before is not inserted: the earlier job is returned, with ErrReplayed.
	JobInsert(ctx context.Context, p *JobInsertParams) (*Job, error)
	JobGet(ctx context.Context, id int64) (*Job, error)
	JobList(ctx context.Context, p *JobListParams) ([]Job, error)
	// JobCount counts jobs per status on a platform (for queue statistics).
	JobCount(ctx context.Context, p *JobCountParams) (int, error)
	// JobNext returns the oldest submitted job of a platform without changing it.
	JobNext(ctx context.Context, platform string) (*Job, error)
	// JobClaim atomically takes the oldest submitted job of a platform: it becomes
	// running under a new lease. ErrNotFound when the queue is empty.
	JobClaim(ctx context.Context, p *JobClaimParams) (*Job, error)
	JobLeaseRenew(ctx context.Context, p *JobLeaseRenewParams) (*Job, error)
	// JobRescue requeues running jobs whose lease expired, or errors them once
	// they have been attempted MaxAttempts times.
	JobRescue(ctx context.Context, p *JobRescueParams) ([]JobRescued, error)
	// JobsOverQuota lists the running jobs whose hold no longer fits what
	// their collab has left on their platform (see JobOverQuota).
	JobsOverQuota(ctx context.Context, p *JobsOverQuotaParams) ([]JobOverQuota, error)
	// JobUpdate applies a provider's or owner's change. Ending a job releases its
	// reservation and charges its usage; so does reporting usage after the end.
	JobUpdate(ctx context.Context, p *JobUpdateParams) (*Job, error)
	// JobDelete removes a job and everything attached to it.
	JobDelete(ctx context.Context, id int64) error

	JobLogGet(ctx context.Context, id int64) (string, error)
	// JobLogSet replaces (Append false) or extends the log, keeping at most MaxBytes of its tail.
	JobLogSet(ctx context.Context, p *JobLogSetParams) error

	JobTagsAdd(ctx context.Context, id int64, tags []string) ([]string, error)
	JobTagsRemove(ctx context.Context, id int64, tags []string) ([]string, error)
	// TagList lists the distinct tags of the jobs in the given collabs (all collabs when nil).
	TagList(ctx context.Context, collabs []string) ([]string, error)

	CommentCreate(ctx context.Context, c *Comment) (*Comment, error)
	CommentGet(ctx context.Context, id int64) (*Comment, error)
	CommentList(ctx context.Context, jobID int64) ([]Comment, error)
	CommentUpdate(ctx context.Context, id int64, content string) (*Comment, error)
	CommentDelete(ctx context.Context, id int64) error

	// DataItemUpsert records an output file, replacing the one with the same job
	// and path. A stored file (Stored with Size) is charged to the collab's
	// storage quota in the same transaction: ErrStorageExceeded when it does not fit.
	DataItemUpsert(ctx context.Context, p *DataItemUpsertParams) (*DataItem, error)
	// DataItemList lists the output files of the jobs, ordered by job and then as recorded.
	DataItemList(ctx context.Context, jobIDs []int64) ([]DataItem, error)
	DataItemGet(ctx context.Context, jobID int64, path string) (*DataItem, error)
	// DataItemExpire deletes stored data items whose retention ended, releasing
	// their storage, and returns them so the caller can delete the files.
	DataItemExpire(ctx context.Context, p *DataItemExpireParams) ([]DataItem, error)
	// DataItemRetain sets the retention end of the job's stored files (nil: kept
	// until deleted) and returns how many it changed.
	DataItemRetain(ctx context.Context, jobID int64, until *time.Time) (int, error)
	// DataItemKeptList lists the stored files of a collab's jobs kept past the
	// retention period (DataItemRetain with nil), newest jobs first (then by path), and
	// how many there are in all.
	DataItemKeptList(ctx context.Context, p *DataItemKeptListParams) ([]DataItem, int, error)
	// DataItemDelete deletes a job's stored output file, releasing its
	// storage, and returns it so that the caller can delete the file.
	DataItemDelete(ctx context.Context, jobID int64, path string) (*DataItem, error)
	// StorageUsage reports a collab's stored bytes and its storage limit in bytes.
	StorageUsage(ctx context.Context, collab string) (used, limit int64, err error)

	ProjectCreate(ctx context.Context, p *Project) (*Project, error)
	ProjectGet(ctx context.Context, id string) (*Project, error)
	ProjectList(ctx context.Context, p *ProjectListParams) ([]Project, error)
	// ProjectUpdate changes the fields given. Accepting a project also adds Grant's quotas in the same transaction.
	ProjectUpdate(ctx context.Context, p *ProjectUpdateParams) (*Project, error)
	ProjectDelete(ctx context.Context, id string) error

	QuotaCreate(ctx context.Context, q *Quota) (*Quota, error)
	QuotaGet(ctx context.Context, id int64) (*Quota, error)
	QuotaUpdate(ctx context.Context, p *QuotaUpdateParams) (*Quota, error)
	QuotaDelete(ctx context.Context, id int64) error

	// SessionInsert reserves quota like JobInsert.
	SessionInsert(ctx context.Context, p *SessionInsertParams) (*Session, error)
	SessionGet(ctx context.Context, id int64) (*Session, error)
	SessionList(ctx context.Context, p *SessionListParams) ([]Session, error)
	// SessionUpdate sets status and usage; ending a session charges it.
	SessionUpdate(ctx context.Context, p *SessionUpdateParams) (*Session, error)

	// CalibrationInsert asks for a calibration of a chip: ErrExists when the
	// chip has one with the same Key already.
	CalibrationInsert(ctx context.Context, p *CalibrationInsertParams) (*Calibration, error)
	CalibrationGet(ctx context.Context, id int64) (*Calibration, error)
	// CalibrationList lists calibrations, newest first.
	CalibrationList(ctx context.Context, p *CalibrationListParams) ([]Calibration, error)
	// CalibrationClaim atomically takes the oldest queued calibration of the
	// chips (see CalibrationClaimParams). ErrNotFound when there is none.
	CalibrationClaim(ctx context.Context, p *CalibrationClaimParams) (*Calibration, error)
	// CalibrationFinish ends a running calibration: ErrLeaseLost when it is
	// not running under the lease given.
	CalibrationFinish(ctx context.Context, p *CalibrationFinishParams) (*Calibration, error)
	// CalibrationChipSeen records that a provider's worker serves a chip.
	CalibrationChipSeen(ctx context.Context, c *CalibrationChip) error
	// CalibrationChipList lists the chips workers said they serve.
	CalibrationChipList(ctx context.Context) ([]CalibrationChip, error)
	// JobStats aggregates jobs for the statistics endpoints, in the database:
	// one row per platform (and day, and user, as asked), never one per job,
	// ordered by day, platform and user. Completed jobs per platform and day
	// (and, on SQLite, all jobs per platform and user) between midnights (or
	// unbounded) are read from daily aggregates kept as jobs change; other
	// groupings read the jobs' index entries.
	JobStats(ctx context.Context, p *JobStatsParams) ([]JobStat, error)
	// JobUserFirstDays counts, per day, the users whose first job (on the given
	// platforms, all when empty; removed jobs too) was submitted that day, oldest first.
	JobUserFirstDays(ctx context.Context, platforms []string) ([]DayCount, error)
	// JobDurations counts finished and errored jobs per status, platform and
	// whole seconds from submission to completion.
	JobDurations(ctx context.Context) ([]JobDuration, error)
	// JobDurationMax answers, per status and platform with finished or
	// errored jobs, the longest of their whole seconds of duration (Seconds;
	// Count is zero).
	JobDurationMax(ctx context.Context) ([]JobDuration, error)
	// JobDurationHistogram counts the jobs of a status on a platform whose
	// whole seconds of duration fall in [edges[i], edges[i+1]), for each i.
	JobDurationHistogram(ctx context.Context, status, platform string, edges []int64) ([]int, error)
	// JobActiveUsers counts, for each of the days (ascending, midnight UTC),
	// the users active on each platform: those who submitted a job there
	// (removed ones too) within ActiveDays days before it or on it. It
	// answers one JobStat (Platform, Day, Count) per day and platform with
	// active users, ordered by day and platform.
	JobActiveUsers(ctx context.Context, days []time.Time) ([]JobStat, error)

	// SettingGetOrCreate returns the value of a server setting, storing value first if it has none.
	SettingGetOrCreate(ctx context.Context, key, value string) (string, error)

	// Ephemeral values are short-lived and shared by the servers on the
	// database (the login flow's states and codes). EphemeralPut stores one
	// (replacing any under key) and deletes the expired; EphemeralGet reads
	// one; EphemeralTake reads and deletes one, for exactly one caller. Both
	// answer ErrNotFound for a missing or expired key.
	EphemeralPut(ctx context.Context, key, value string, expires, now time.Time) error
	EphemeralGet(ctx context.Context, key string, now time.Time) (string, error)
	EphemeralTake(ctx context.Context, key string, now time.Time) (string, error)
	// The benchmark service (package benchmark): sources, runs, measurements,
	// and the systems' configurations it last saw.
	BenchmarkSourceCreate(ctx context.Context, src *BenchmarkSource) (*BenchmarkSource, error)
	BenchmarkSourceGet(ctx context.Context, name string) (*BenchmarkSource, error)
	BenchmarkSourceList(ctx context.Context) ([]BenchmarkSource, error)
	BenchmarkSourceUpdate(ctx context.Context, p *BenchmarkSourceUpdateParams) (*BenchmarkSource, error)
	// BenchmarkSourceDelete removes a source with its runs and measurements.
	BenchmarkSourceDelete(ctx context.Context, name string) error
	// BenchmarkRunCreate adds a queued run, unless a run of the same source,
	// commit, model, task and platform is queued or submitted already: then
	// it returns that one and created false (duplicates coalesce).
	BenchmarkRunCreate(ctx context.Context, r *BenchmarkRun) (run *BenchmarkRun, created bool, err error)
	BenchmarkRunGet(ctx context.Context, id int64) (*BenchmarkRun, error)
	BenchmarkRunList(ctx context.Context, p *BenchmarkRunListParams) ([]BenchmarkRun, error)
	// BenchmarkRunUpdate changes a run that has not ended (ErrConflict otherwise).
	BenchmarkRunUpdate(ctx context.Context, p *BenchmarkRunUpdateParams) (*BenchmarkRun, error)
	// BenchmarkRunEnd ends a run and stores its measurements in one
	// transaction (ErrConflict if it has ended already).
	BenchmarkRunEnd(ctx context.Context, p *BenchmarkRunEndParams) (*BenchmarkRun, error)
	BenchmarkMeasurementList(ctx context.Context, p *BenchmarkMeasurementListParams) ([]BenchmarkMeasurement, error)
	// BenchmarkSystemSet records a platform's configuration fingerprint and
	// returns the one it replaces ("" and changed true the first time).
	BenchmarkSystemSet(ctx context.Context, platform, fingerprint string, now time.Time) (previous string, changed bool, err error)
}

type UserCreateParams struct {
	Username, Email, GivenName, FamilyName, PasswordHash string
	Admin                                                bool
	Now                                                  time.Time
}

// UserUpdateParams changes the non-nil fields.
type UserUpdateParams struct {
	Username                                   string
	Email, GivenName, FamilyName, PasswordHash *string
	Admin                                      *bool
}

type CollabCreateParams struct {
	Name, Title string
	Public      bool
	Now         time.Time
}

type CollabMemberListParams struct {
	Collab   string
	Username string
}

type JobInsertParams struct {
	Job Job // ID, Status and SubmittedAt are set by the store (SubmittedAt from Now)
	Now time.Time
	// Reserve is the quota to hold for the job. Zero: the job is admitted when
	// some quota has usage below its limit (the reference behaviour). Negative:
	// no quota check (admins' and tests' use).
	Reserve float64
}

type JobListParams struct {
	Status           []string
	Tags             []string
	Collab           []string
	UserID           []string
	HardwarePlatform []string
	SubmittedFrom    *time.Time
	SubmittedTo      *time.Time
	// CompletedFrom/To filter on completion time (statistics).
	CompletedFrom, CompletedTo *time.Time
	IncludeRemoved             bool
	// Oldest lists in ascending id order; the default is newest first.
	Oldest bool
	Limit  int
	Offset int
	// MaxCode, when positive, lists the jobs whose code is longer than MaxCode
	// characters with an empty Code, so that listings stay small.
	MaxCode int
}

// ActiveDays is how long a user counts as active after submitting a job.
const ActiveDays = 90

// JobStatsParams selects and groups jobs for statistics.
type JobStatsParams struct {
	// Completed selects finished and errored jobs by their completion time;
	// otherwise every job (removed ones too) by its submission time.
	Completed bool
	// From (included) and To (excluded) bound that time; nil: unbounded.
	From, To *time.Time
	// ByDay and ByUser group by the day (UTC) and the user, besides the platform.
	ByDay, ByUser bool
}

// JobStat is one group of JobStats.
type JobStat struct {
	Platform string
	Day      time.Time // midnight UTC; zero without ByDay
	User     string    // empty without ByUser
	Count    int
	Usage    float64 // the sum of the jobs' reported resource usage
}

// DayCount is a count on a day (midnight UTC).
type DayCount struct {
	Day   time.Time
	Count int
}

// JobDuration is one group of JobDurations.
type JobDuration struct {
	Status, Platform string
	Seconds          int64
	Count            int
}

type JobCountParams struct {
	HardwarePlatform string
	Status           string
}

type JobClaimParams struct {
	Platform string
	Owner    string // provider name
	LeaseID  string
	Lease    time.Duration
	Now      time.Time
	// Hold, when positive, is how much quota the runner may let the job use:
	// the job's hold (made at submission) grows towards it, as far as its
	// quota has room, in the claim's transaction. The job's HoldAmount is
	// then all the job may use.
	Hold float64
	// MinHold, when positive, passes over queued jobs whose quota has less
	// room than this for them while other jobs holding that quota run: they
	// wait until those end. (A job whose quota has too little room and no
	// running job to wait for is claimed with what is left.)
	MinHold float64
}

// JobsOverQuotaParams selects the running jobs JobsOverQuota looks at.
type JobsOverQuotaParams struct {
	JobID    int64  // 0: every running job (of Collab, when set)
	Collab   string // "": every collab
	Platform string // "": every platform
}

// JobOverQuota is a running job whose hold no longer fits: what its collab
// has left on the platform (the limits less the usage of its accepted
// quotas, each counted down to zero) is less than the holds of the running
// jobs claimed before it, and its own. Older claims keep their holds first.
// A collab whose quota was removed, lowered, or used up by other jobs has
// such jobs; they are to be stopped (zero overspend).
type JobOverQuota struct {
	ID       int64
	Collab   string
	Platform string
	Hold     float64 // the job's own hold
	Before   float64 // the holds of the running jobs claimed before it
	Left     float64 // what the collab has left on the platform
}

type JobLeaseRenewParams struct {
	ID      int64
	LeaseID string
	Lease   time.Duration
	Now     time.Time
}

type JobRescueParams struct {
	Now         time.Time
	MaxAttempts int
}

// JobRescued reports what JobRescue did to one job.
type JobRescued struct {
	ID       int64
	Attempts int
	Status   string // submitted (requeued) or error (gave up)
}

// JobUpdateParams changes the non-nil fields of a job.
type JobUpdateParams struct {
	ID int64
	// LeaseID, when set, must match the job's current lease (ErrLeaseLost otherwise).
	LeaseID       string
	Status        *string
	Provenance    json.RawMessage
	ResourceUsage *float64
	Repository    *string
	Now           time.Time
}

type JobLogSetParams struct {
	ID       int64
	Content  string
	Append   bool
	MaxBytes int // 0: no limit
}

type DataItemUpsertParams struct {
	Item   DataItem
	Collab string // the job's collab, charged for stored files
	Now    time.Time
}

type DataItemKeptListParams struct {
	Collab string
	JobID  int64 // 0: every job of the collab
	Limit  int   // 0: 1000
	Offset int
}

type DataItemExpireParams struct {
	Now   time.Time
	Limit int
}

type ProjectListParams struct {
	Status string
	Collab []string
	Owner  []string
	Limit  int
	Offset int
}

// ProjectUpdateParams changes the non-nil fields.
type ProjectUpdateParams struct {
	ID                           string
	Title, Abstract, Description *string
	Owner, Access                *string
	Submit                       bool    // set the submission date (under review)
	Unsubmit                     bool    // back to in preparation (only before a decision)
	Decide                       *bool   // accept (true) or reject (false)
	DecisionReason               *string // with Decide: the administrator's comment
	Grant                        []Quota
	Now                          time.Time
}

type QuotaUpdateParams struct {
	ID    int64
	Limit *float64
	Usage *float64
}

type SessionInsertParams struct {
	Session Session
	Now     time.Time
	Reserve float64
}

type SessionListParams struct {
	Status           []string
	Collab           []string
	UserID           []string
	HardwarePlatform []string
	Limit, Offset    int
}

type SessionUpdateParams struct {
	ID            int64
	Status        *string
	ResourceUsage *float64
	Now           time.Time
}

// DutyLocker is implemented by stores that several servers may share: of the
// servers on one database, a background duty (the rescuer, the cleaner,
// nightly calibrations, benchmark triggers) runs on the one holding its lock.
// The SQLite and PostgreSQL stores implement it (on SQLite, a single server's
// database, every lock is granted).
type DutyLocker interface {
	// TryDutyLock takes the named duty's lock unless another server holds it.
	TryDutyLock(ctx context.Context, name string) (DutyLock, bool, error)
}

// DutyLock is a held duty lock.
type DutyLock interface {
	// Check fails once the lock is no longer held (its database session ended).
	Check(ctx context.Context) error
	// Release gives the lock up.
	Release()
}
