-- Word index over instruction text (question, options, answer) for the review search.
-- DuckDB's fts extension is not built for the DuckDB this app ships, so the index is ours:
-- a vocabulary of lower-cased words (one row per distinct word; a CJK character is a word)
-- and postings (word, item). A search prefix-scans the small vocabulary and joins postings.
-- core.store.search_index keeps it in step with the instructions table before every search.
CREATE TABLE search_vocab (
    id    INTEGER PRIMARY KEY,
    token VARCHAR NOT NULL UNIQUE
);
CREATE TABLE search_postings (
    token_id INTEGER NOT NULL,
    item_id  BIGINT NOT NULL
);
-- Per indexed item: a hash of its text, so an update that left the text alone (a status
-- change bumps updated_at too) is not indexed again.
CREATE TABLE search_items (
    item_id BIGINT PRIMARY KEY,
    text_hash UBIGINT NOT NULL
);
