-- What listening to a call found: the risk timeline, indicators and interventions (JSON),
-- or '' for calls that were not listened to.
ALTER TABLE calls ADD COLUMN risk TEXT NOT NULL DEFAULT '';
