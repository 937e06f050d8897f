-- 0004: relay digests to the sector authorities (relaydigest.h).
--
-- A sighting keeps the TLP label of the finding as it was last notified
-- (raised by any stricter sighting since), so a digest knows which items
-- it may describe.  Rows from before this migration have none: a digest
-- treats them as TLP:RED (counted, never described).
ALTER TABLE sighting ADD COLUMN tlp tlp_label;
CREATE INDEX sighting_last_notified ON sighting (last_notified)
    WHERE last_notified IS NOT NULL;

-- One row per authority and period: the unique key makes a digest go out
-- once, across restarts and with several daemons (the second INSERT waits
-- for the first transaction, then finds the row).  `reference` is NULL
-- when there was nothing to report.
CREATE TABLE relay_run (
    id           bigserial PRIMARY KEY,
    authority_id bigint NOT NULL REFERENCES sector_authority(id) ON DELETE CASCADE,
    period_from  timestamptz NOT NULL,
    period_to    timestamptz NOT NULL CHECK (period_to > period_from),
    reference    text,
    state        text NOT NULL CHECK (state IN ('queued', 'held', 'empty')),
    items        integer NOT NULL DEFAULT 0 CHECK (items >= 0),
    withheld     integer NOT NULL DEFAULT 0 CHECK (withheld >= 0),
    actor        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (authority_id, period_from, period_to),
    CHECK ((state = 'empty') = (reference IS NULL))
);
