-- Curating collected images (desktop Curate view, core.collect.curate).
--
-- A near-duplicate group a person kept whole ("these are not duplicates") is not offered
-- again while its undecided members stay the same; `members` is their sorted ids, joined by
-- commas, so a new near duplicate joining the group brings it back.
CREATE TABLE curate_kept_groups (
    kind       VARCHAR NOT NULL,    -- phash | embedding
    members    VARCHAR NOT NULL,
    decided_at TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (kind, members)
);
