-- The trash (issue 14): images deleted from the GUI or `mmstudio` go here with every row that
-- names them, so a delete can be undone. One row per delete; the rows themselves move into
-- trash_<table> copies (made on first use by core.store.trash: they follow the live tables'
-- columns, including tables added later, such as the CLIP vector tables).
CREATE SEQUENCE trash_id START 1;
CREATE TABLE trash (
    id         BIGINT PRIMARY KEY DEFAULT nextval('trash_id'),
    reason     VARCHAR,
    author     VARCHAR,
    n_images   BIGINT NOT NULL,
    counts     JSON,                 -- rows moved per table
    created_at TIMESTAMP DEFAULT current_timestamp
);
