-- Community alerts from the regional hub: an alert with no call, kept once per household
-- and hub alert (ref). They take negative event_seq values, as no outbox event made them.
ALTER TABLE alerts ADD COLUMN ref TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX alerts_ref ON alerts (household_id, ref) WHERE ref != '';
