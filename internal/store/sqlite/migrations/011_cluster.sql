-- Several guards sharing one database (a provider's service behind a SIP load balancer):
-- the phones' registrations, so a phone registered through one guard is rung by any; the
-- guard instances, each seen at its last heartbeat; and which instance handles each call,
-- so the calls of an instance that stopped can be ended.
CREATE TABLE registrations (
    user_name  TEXT NOT NULL,
    contact    TEXT NOT NULL,            -- the Contact URI as registered
    path       TEXT NOT NULL DEFAULT '', -- the REGISTER's Path values, in order, comma-joined (RFC 3327)
    flow       TEXT NOT NULL DEFAULT '', -- ip:port of the phone's own TCP/TLS connection to instance
    instance   TEXT NOT NULL,            -- the guard instance that took the REGISTER
    expires_at INTEGER NOT NULL,         -- unix µs
    PRIMARY KEY (user_name, contact)
);
CREATE INDEX registrations_expiry ON registrations (expires_at);

CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    sip        TEXT NOT NULL,
    started_at INTEGER NOT NULL, -- unix µs: when the instance's current process opened the store
    seen_at    INTEGER NOT NULL  -- unix µs: its last heartbeat
);

ALTER TABLE calls ADD COLUMN instance TEXT NOT NULL DEFAULT '';
-- Calls in progress only: the leader's sweep and the dashboards' calls now read just these.
CREATE INDEX calls_open ON calls (instance) WHERE ended_at IS NULL;
