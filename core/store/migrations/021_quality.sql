-- Quality gate (issue 13): caption-grounded verification, blind answerability and one risk
-- score per item. NULL everywhere means "not measured yet".
ALTER TABLE instructions ADD COLUMN caption_verify_answer VARCHAR;  -- the text LLM's own answer
ALTER TABLE instructions ADD COLUMN caption_verify_agree BOOLEAN;
ALTER TABLE instructions ADD COLUMN caption_verify_score DOUBLE;
-- true: the verifier said the caption cannot tell (the item may state an invented fact)
ALTER TABLE instructions ADD COLUMN caption_untellable BOOLEAN;
-- 0-1: how far above chance the LLM answered with neither image nor caption
ALTER TABLE instructions ADD COLUMN blind_score DOUBLE;
ALTER TABLE instructions ADD COLUMN blind_answers VARCHAR[];
-- 0-1, core.pipeline.risk; the review queue orders by it (highest first)
ALTER TABLE instructions ADD COLUMN risk DOUBLE;
