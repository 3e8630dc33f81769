-- Carer Check: the number the guard rings a guardian on (E.164, '' for none), and what
-- happened when a guardian was rung about a call (guardian, times, their choice), as JSON,
-- or '' for calls no guardian was asked about.
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN carer TEXT NOT NULL DEFAULT '';
