-- When copy_data_to_storage kept a stored output file past the retention
-- period (NULL: not kept). Files kept before this column existed get their
-- upload time.
ALTER TABLE data_items ADD COLUMN kept_at TIMESTAMPTZ;
UPDATE data_items SET kept_at = created_at WHERE stored AND expires_at IS NULL;
CREATE INDEX data_items_kept ON data_items (collab, job_id) WHERE kept_at IS NOT NULL;
-- The running jobs of a collab on a platform, in claim order: what lease
-- renewals sum to check that their holds still fit the quota.
CREATE INDEX jobs_running ON jobs (collab, hardware_platform, started_at, id, hold_amount, hold_quota_id) WHERE status = 'running';
