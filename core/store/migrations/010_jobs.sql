-- Job engine: a persistent queue of items per job, a result cache keyed by the idempotency key
-- (stage + item + model + prompt hash, so a re-run never pays twice), a log row per model call,
-- and generic outputs for stages that keep no table of their own.
CREATE SEQUENCE jobs_id START 1;
CREATE TABLE jobs (
    id            BIGINT PRIMARY KEY DEFAULT nextval('jobs_id'),
    stage         VARCHAR NOT NULL,
    backend       VARCHAR,
    model         VARCHAR,
    params        JSON,
    -- pending | running | paused | stopped | budget | cancelled | done | failed
    status        VARCHAR NOT NULL DEFAULT 'pending',
    status_reason VARCHAR,
    budget_usd    DOUBLE,
    max_attempts  INTEGER NOT NULL DEFAULT 4,
    batch_id      VARCHAR,            -- OpenAI Batch API id while a batch is out
    created_at    TIMESTAMP DEFAULT current_timestamp,
    started_at    TIMESTAMP,
    finished_at   TIMESTAMP
);

CREATE TABLE job_items (
    job_id            BIGINT NOT NULL,
    item_key          VARCHAR NOT NULL,
    seq               INTEGER NOT NULL,
    payload           JSON,
    state             VARCHAR NOT NULL DEFAULT 'pending',  -- pending | running | done | failed
    attempts          INTEGER NOT NULL DEFAULT 0,
    reason            VARCHAR,            -- error class when failed
    error             VARCHAR,            -- redacted message when failed
    request_key       VARCHAR,
    cached            BOOLEAN NOT NULL DEFAULT false,
    cost_usd          DOUBLE,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    updated_at        TIMESTAMP,
    PRIMARY KEY (job_id, item_key)
);

CREATE TABLE result_cache (
    request_key VARCHAR PRIMARY KEY,
    stage       VARCHAR NOT NULL,
    item_key    VARCHAR NOT NULL,
    model       VARCHAR,
    prompt_hash VARCHAR NOT NULL,
    response    JSON NOT NULL,           -- {text, finish_reason, usage, model}
    created_at  TIMESTAMP DEFAULT current_timestamp
);

CREATE SEQUENCE requests_id START 1;
CREATE TABLE requests (
    id                BIGINT PRIMARY KEY DEFAULT nextval('requests_id'),
    job_id            BIGINT,
    item_key          VARCHAR,
    attempt           INTEGER,
    backend           VARCHAR,
    model             VARCHAR,
    prompt_hash       VARCHAR,
    started_at        TIMESTAMP,
    latency_ms        DOUBLE,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    n_images          INTEGER,
    cost_usd          DOUBLE,
    outcome           VARCHAR NOT NULL,   -- ok | error | cached | bad_output
    error_class       VARCHAR,
    http_status       INTEGER,
    error             VARCHAR             -- redacted
);
CREATE INDEX requests_job ON requests(job_id);

-- No primary key on purpose: a duplicate would show up as a second row, not be hidden.
CREATE TABLE job_outputs (
    job_id     BIGINT NOT NULL,
    item_key   VARCHAR NOT NULL,
    value      JSON,
    created_at TIMESTAMP DEFAULT current_timestamp
);
