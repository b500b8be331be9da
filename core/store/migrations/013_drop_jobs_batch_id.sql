-- jobs.batch_id was planned as "the Batch API id while a batch is out", but a job may have
-- several batches out at once (50,000 requests / 200 MB per input file): job_batches holds
-- them, one row each, and nothing ever wrote this column.
ALTER TABLE jobs DROP COLUMN batch_id;
