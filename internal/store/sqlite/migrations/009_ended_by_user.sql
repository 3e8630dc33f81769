-- Who ended a call that a guardian ended from the dashboard or the API (their name), or ''.
ALTER TABLE calls ADD COLUMN ended_by_user TEXT NOT NULL DEFAULT '';
