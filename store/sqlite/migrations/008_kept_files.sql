-- When copy_data_to_storage kept a stored output file past the retention
-- period (NULL: not kept). Files kept before this column existed get their
-- upload time.
ALTER TABLE data_items ADD COLUMN kept_at INTEGER;
UPDATE data_items SET kept_at = created_at WHERE stored = 1 AND expires_at IS NULL;
CREATE INDEX data_items_kept ON data_items (collab, job_id) WHERE kept_at IS NOT NULL;
