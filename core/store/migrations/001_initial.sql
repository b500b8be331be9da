-- Foundation schema: project metadata, taxonomy, image library, provenance of imports,
-- generated data (captions, instructions) and the human edit log.
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);

CREATE TABLE domains (
    name        VARCHAR PRIMARY KEY,
    title       VARCHAR,
    description VARCHAR,
    keywords    VARCHAR[],
    position    INTEGER,
    created_at  TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE seeds_id START 1;
CREATE TABLE seeds (
    id         BIGINT PRIMARY KEY DEFAULT nextval('seeds_id'),
    domain     VARCHAR NOT NULL,
    itype      VARCHAR NOT NULL,   -- judgement | multiple_choice | short_vqa | long_vqa
    lang       VARCHAR NOT NULL,   -- en | zh
    text       VARCHAR NOT NULL,
    source     VARCHAR,            -- 'builtin', 'mminstruct:<file>', 'user'
    created_at TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE batches_id START 1;
CREATE TABLE import_batches (
    id          BIGINT PRIMARY KEY DEFAULT nextval('batches_id'),
    domain      VARCHAR,
    options     JSON,
    counts      JSON,
    started_at  TIMESTAMP DEFAULT current_timestamp,
    finished_at TIMESTAMP
);

CREATE SEQUENCE images_id START 1;
CREATE TABLE images (
    id             BIGINT PRIMARY KEY DEFAULT nextval('images_id'),
    sha256         VARCHAR NOT NULL UNIQUE,
    phash          UBIGINT,
    width          INTEGER,
    height         INTEGER,
    format         VARCHAR,
    mode           VARCHAR,
    n_frames       INTEGER,
    bytes          BIGINT,
    domain         VARCHAR,
    storage        VARCHAR NOT NULL,  -- 'copy' (media/ relative path) | 'reference' (absolute path)
    path           VARCHAR NOT NULL,
    thumb          VARCHAR,           -- relative to the project folder
    status         VARCHAR NOT NULL DEFAULT 'new',
    near_dup_group BIGINT,            -- id of the group's first image; NULL when unique
    license        VARCHAR,
    attribution    VARCHAR,
    source_url     VARCHAR,
    title          VARCHAR,
    tags           VARCHAR[],
    batch_id       BIGINT,
    created_at     TIMESTAMP DEFAULT current_timestamp
);
CREATE INDEX images_domain ON images(domain);

-- Every place an image was seen; exact duplicates add rows here, not images.
CREATE TABLE image_sources (
    image_id    BIGINT NOT NULL,
    path        VARCHAR NOT NULL,
    batch_id    BIGINT,
    imported_at TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE rejected_id START 1;
CREATE TABLE rejected (
    id         BIGINT PRIMARY KEY DEFAULT nextval('rejected_id'),
    batch_id   BIGINT,
    path       VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL,   -- short code: empty, not_an_image, truncated, too_many_pixels, ...
    detail     VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE ocr (
    image_id   BIGINT NOT NULL,
    engine     VARCHAR NOT NULL,
    lines      JSON,
    text       VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE captions_id START 1;
CREATE TABLE captions (
    id          BIGINT PRIMARY KEY DEFAULT nextval('captions_id'),
    image_id    BIGINT NOT NULL,
    version     INTEGER NOT NULL,
    text        VARCHAR NOT NULL,
    lang        VARCHAR,
    model       VARCHAR,
    prompt_hash VARCHAR,
    job_id      BIGINT,
    is_current  BOOLEAN NOT NULL DEFAULT true,
    origin      VARCHAR DEFAULT 'generated',  -- generated | manual | imported
    created_at  TIMESTAMP DEFAULT current_timestamp
);
CREATE INDEX captions_image ON captions(image_id);

CREATE SEQUENCE instructions_id START 1;
CREATE TABLE instructions (
    id              BIGINT PRIMARY KEY DEFAULT nextval('instructions_id'),
    image_id        BIGINT NOT NULL,
    itype           VARCHAR NOT NULL,   -- judgement | multiple_choice | short_vqa | long_vqa
    lang            VARCHAR NOT NULL,
    question        VARCHAR NOT NULL,
    options         VARCHAR[],          -- multiple-choice only, in A-D order
    answer          VARCHAR NOT NULL,
    origin          VARCHAR NOT NULL DEFAULT 'generated',  -- generated | imported | expanded | manual
    status          VARCHAR NOT NULL DEFAULT 'new',  -- new | ok | needs_review | accepted | rejected | needs_fix
    check_flags     VARCHAR[],          -- names of failed check rules
    check_messages  VARCHAR[],
    conversation_id BIGINT,             -- multi-round long QA groups
    round           INTEGER,
    job_id          BIGINT,
    model           VARCHAR,
    prompt_hash     VARCHAR,
    seed_ids        BIGINT[],
    verify_answer   VARCHAR,
    verify_agree    BOOLEAN,
    created_at      TIMESTAMP DEFAULT current_timestamp,
    updated_at      TIMESTAMP DEFAULT current_timestamp
);
CREATE INDEX instructions_image ON instructions(image_id);

CREATE TABLE prompts (
    name       VARCHAR NOT NULL,   -- caption, caption_prior, generate_<type>, verify, ...
    lang       VARCHAR NOT NULL,
    domain     VARCHAR NOT NULL DEFAULT '',   -- '' = every domain
    text       VARCHAR NOT NULL,
    updated_at TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE revisions_id START 1;
CREATE TABLE revisions (
    id         BIGINT PRIMARY KEY DEFAULT nextval('revisions_id'),
    tbl        VARCHAR NOT NULL,
    row_id     BIGINT NOT NULL,
    field      VARCHAR NOT NULL,
    old        VARCHAR,
    new        VARCHAR,
    author     VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);
