-- The guardians' dashboard: households, their guardians and admins, sessions, and alerts
-- with one delivery row per guardian and channel. Calls now say which household they were for.
ALTER TABLE calls ADD COLUMN household TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_household ON calls (household, started_at);

CREATE TABLE households (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    settings   TEXT NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    webhook        TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '',
    email_to       TEXT NOT NULL DEFAULT '',
    ntfy           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);

CREATE TABLE guardians (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    household_id TEXT NOT NULL REFERENCES households (id),
    PRIMARY KEY (user_id, household_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Where each outbox consumer has read to.
CREATE TABLE cursors (
    consumer TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL
);

CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq    INTEGER NOT NULL UNIQUE,
    household_id TEXT NOT NULL,
    call_id      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    acked_by     TEXT NOT NULL DEFAULT '',
    acked_at     BIGINT
);
CREATE INDEX alerts_household ON alerts (household_id, at);

CREATE TABLE deliveries (
    alert_id     INTEGER NOT NULL REFERENCES alerts (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    channel      TEXT NOT NULL,
    target       TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    delivered_at BIGINT,
    PRIMARY KEY (alert_id, user_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);

-- The highest risk listening found, for filtering the call history.
ALTER TABLE calls ADD COLUMN risk_level REAL NOT NULL DEFAULT 0;
