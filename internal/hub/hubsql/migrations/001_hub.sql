-- The hub's store, written once for SQLite and PostgreSQL: reports (each ID once), the
-- shared block-list, community alerts and the receipts that measure their reach.
CREATE TABLE hub_reports (
    id          TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    source      TEXT NOT NULL,
    district    TEXT NOT NULL,
    number      TEXT NOT NULL,
    claimed     TEXT NOT NULL,
    indicators  TEXT NOT NULL,
    loss        BIGINT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX hub_reports_at ON hub_reports (at);

CREATE TABLE hub_blocks (
    number    TEXT PRIMARY KEY,
    campaign  TEXT NOT NULL,
    reason    TEXT NOT NULL,
    by_whom   TEXT NOT NULL,
    at        BIGINT NOT NULL
);

CREATE TABLE hub_alerts (
    id        TEXT PRIMARY KEY,
    campaign  TEXT NOT NULL,
    districts TEXT NOT NULL,
    title     TEXT NOT NULL,
    body      TEXT NOT NULL,
    by_whom   TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX hub_alerts_at ON hub_alerts (at);

CREATE TABLE hub_receipts (
    alert_id  TEXT NOT NULL,
    household TEXT NOT NULL,
    district  TEXT NOT NULL,
    guardians INTEGER NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (alert_id, household)
);
