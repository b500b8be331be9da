-- The OpenAI Batch API end to end: a job remembers whether it runs as batches and what to do
-- with requests an expired batch left unanswered; each batch it sent is a row (a job may need
-- several: the API caps one input file at 50,000 requests and 200 MB), and each item names the
-- batch it is out in, so a killed process resumes by polling instead of paying again.
ALTER TABLE jobs ADD COLUMN use_batch BOOLEAN;          -- NULL: not decided yet (never ran)
ALTER TABLE jobs ADD COLUMN batch_on_expiry VARCHAR;    -- live | batch
ALTER TABLE job_items ADD COLUMN batch_ref BIGINT;      -- job_batches.id while out in a batch
ALTER TABLE requests ADD COLUMN batch BOOLEAN DEFAULT false;  -- priced at the batch rate

CREATE SEQUENCE job_batches_id START 1;
CREATE TABLE job_batches (
    id             BIGINT PRIMARY KEY DEFAULT nextval('job_batches_id'),
    job_id         BIGINT NOT NULL,
    token          VARCHAR NOT NULL,   -- sent as metadata: finds a batch created just before a crash
    batch_id       VARCHAR,            -- the provider's id (NULL until the create call answered)
    input_file_id  VARCHAR,
    n_requests     INTEGER NOT NULL,
    n_bytes        BIGINT NOT NULL,
    -- submitting | validating | in_progress | finalizing | completed | failed | expired |
    -- cancelling | cancelled: the provider's status, as last polled
    status         VARCHAR NOT NULL DEFAULT 'submitting',
    settled        BOOLEAN NOT NULL DEFAULT false,  -- its results are stored, its leftovers requeued
    message        VARCHAR,
    created_at     TIMESTAMP DEFAULT current_timestamp,
    settled_at     TIMESTAMP
);
