-- What a batch can cost at most (each request's reply at max_tokens, at the batch price),
-- recorded when it is sent: a resumed run counts it against the budget until the batch is
-- settled, so requests still out in a batch are never forgotten and the run never overspends.
ALTER TABLE job_batches ADD COLUMN reserved_usd DOUBLE NOT NULL DEFAULT 0;
