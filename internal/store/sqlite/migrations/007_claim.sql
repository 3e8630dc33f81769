-- Who the caller said they were when the guard asked them (kind, organisation, ID number,
-- whether they answered, what the resident chose), as JSON, or '' for calls not asked.
ALTER TABLE calls ADD COLUMN claim TEXT NOT NULL DEFAULT '';
