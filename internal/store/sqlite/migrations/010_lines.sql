-- Households as data: the district a household's reports go to, the numbers its calls come
-- in on and go out with (E.164, each number one household's), and its phones — the SIP
-- accounts the guard's registrar takes, each user name one phone's on the whole guard.
-- The password is kept as given: SIP digest authentication needs it (or a hash bound to
-- the realm), as every registrar's subscriber table does.
ALTER TABLE households ADD COLUMN district TEXT NOT NULL DEFAULT '';

CREATE TABLE household_numbers (
    number       TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id)
);
CREATE INDEX household_numbers_household ON household_numbers (household_id);

CREATE TABLE phones (
    username     TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households (id),
    password     TEXT NOT NULL,
    contact      TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX phones_household ON phones (household_id);
