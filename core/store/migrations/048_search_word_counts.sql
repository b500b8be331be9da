-- Per word of the search index: how many items held it when it was indexed (never lowered:
-- it orders a search's words rarest first, and an estimate serves).
ALTER TABLE search_vocab ADD COLUMN df BIGINT NOT NULL DEFAULT 0;
UPDATE search_vocab SET df = c.n
FROM (SELECT token_id, count(*) AS n FROM search_postings GROUP BY token_id) c
WHERE c.token_id = search_vocab.id;
