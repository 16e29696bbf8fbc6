-- Statistics are aggregated in SQL over time ranges. These indexes cover
-- what each aggregate reads, so that it never reads the jobs' rows (and code).
CREATE INDEX jobs_completed_stats ON jobs (completed_at, hardware_platform, status, resource_usage);
CREATE INDEX jobs_submitted_stats ON jobs (submitted_at, hardware_platform, user_id, resource_usage);
CREATE INDEX jobs_user_first ON jobs (user_id, hardware_platform, submitted_at);
CREATE INDEX jobs_duration_stats ON jobs (status, hardware_platform, submitted_at, completed_at);

-- Idempotent submissions: a client that retries a POST /jobs/ with the same
-- Idempotency-Key gets the job its first attempt created.
ALTER TABLE jobs ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
