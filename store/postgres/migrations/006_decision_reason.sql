-- A resource request's decision comment: why an administrator rejected (or accepted) it.
ALTER TABLE projects ADD COLUMN decision_reason TEXT NOT NULL DEFAULT '';
