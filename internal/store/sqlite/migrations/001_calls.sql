-- Calls, their two legs, and the outbox of call events.
CREATE TABLE calls (
    id          TEXT PRIMARY KEY,
    direction   TEXT NOT NULL,
    from_party  TEXT NOT NULL,
    to_party    TEXT NOT NULL,
    emergency   INTEGER NOT NULL DEFAULT 0,
    started_at  BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at    BIGINT,
    ended_by    TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_started ON calls (started_at);

CREATE TABLE legs (
    call_id     TEXT NOT NULL REFERENCES calls (id),
    side        TEXT NOT NULL,
    peer        TEXT NOT NULL,
    released_at BIGINT,
    PRIMARY KEY (call_id, side)
);

CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    at      BIGINT NOT NULL,
    payload TEXT NOT NULL
);
