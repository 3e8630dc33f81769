-- People an admin removed: kept (their alerts' deliveries name them) but unable to log in,
-- out of every list, with no households and no sessions.
ALTER TABLE users ADD COLUMN removed_at BIGINT;
