-- The screening verdict of each inbound call, with its reasons (a JSON array of strings).
ALTER TABLE calls ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';
