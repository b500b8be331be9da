-- Image collection and CLIP work.
--
-- Embedding vectors live in one table per dimension, `clip_vectors_<dim>` with a FLOAT[<dim>]
-- column, created by core.store.embeddings when the first model of that size is registered.
-- DuckDB's array_* distance functions need a fixed size known to the column; a generic
-- FLOAT[] column would need a cast of every row on every search (bench/embed.py measures it).
CREATE SEQUENCE clip_models_id START 1;
CREATE TABLE clip_models (
    id         INTEGER PRIMARY KEY DEFAULT nextval('clip_models_id'),
    name       VARCHAR NOT NULL UNIQUE,  -- catalog name, or the absolute path of a local folder
    dim        INTEGER NOT NULL,
    created_at TIMESTAMP DEFAULT current_timestamp,
    used_at    TIMESTAMP DEFAULT current_timestamp   -- last embedding run: the default model
);

-- Domain relevance: the image's best similarity to its domain's text prompts. Off-domain images
-- are flagged here, never deleted; re-scoring replaces the row.
CREATE TABLE clip_relevance (
    image_id     BIGINT NOT NULL,
    model_id     INTEGER NOT NULL,
    domain       VARCHAR NOT NULL,
    score        FLOAT NOT NULL,
    threshold    FLOAT NOT NULL,
    off_domain   BOOLEAN NOT NULL,
    best_prompt  VARCHAR,
    best_domain  VARCHAR,               -- the domain whose prompts matched best
    scored_at    TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (image_id, model_id)
);

-- Near-duplicate groups by embedding (the pHash groups stay in images.near_dup_group).
CREATE TABLE clip_groups (
    model_id   INTEGER NOT NULL,
    image_id   BIGINT NOT NULL,
    group_id   BIGINT NOT NULL,          -- smallest image id of the group
    similarity FLOAT,                    -- best similarity to another member
    threshold  FLOAT NOT NULL,
    PRIMARY KEY (model_id, image_id)
);

-- Where a collected image came from: one row per (image, source). images.title / license /
-- attribution / source_url hold the first known values; this table keeps all of them.
CREATE TABLE collected (
    image_id        BIGINT NOT NULL,
    origin          VARCHAR NOT NULL,    -- url_list | openverse | expand
    url             VARCHAR,             -- what was downloaded (NULL for a local pool file)
    landing_url     VARCHAR,             -- the page to cite
    title           VARCHAR,
    caption         VARCHAR,
    creator         VARCHAR,
    license         VARCHAR,             -- readable, e.g. 'CC BY-SA 2.0'
    license_code    VARCHAR,             -- the source's code, e.g. 'by-sa'
    license_version VARCHAR,
    license_url     VARCHAR,
    attribution     VARCHAR,
    provider        VARCHAR,
    source_id       VARCHAR,             -- the source's own id of the item
    query           VARCHAR,
    seed_image_id   BIGINT,              -- expand: the seed that found it
    score           FLOAT,               -- expand: similarity to that seed
    batch_id        BIGINT,
    collected_at    TIMESTAMP DEFAULT current_timestamp
);
CREATE INDEX collected_image ON collected(image_id);
CREATE INDEX collected_url ON collected(url);
