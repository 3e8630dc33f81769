-- The ID number and officer's name a report's caller gave, as the clustering links them
-- (campaign.IDNumber, campaign.Officer); '' for reports without, and for reports stored
-- before this migration.
ALTER TABLE hub_reports ADD COLUMN id_number TEXT NOT NULL DEFAULT '';
ALTER TABLE hub_reports ADD COLUMN officer TEXT NOT NULL DEFAULT '';
