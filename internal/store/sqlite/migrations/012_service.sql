-- What the guards sharing one database share as one service: 'guard_id', the service's
-- guard identity towards the hub (ServiceID), set by the first guard that asks.
CREATE TABLE service (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
