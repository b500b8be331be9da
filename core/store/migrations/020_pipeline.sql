-- Pipeline provenance and verify detail: the item an expanded item came from, the similarity
-- behind a verify verdict, and lookups the stages make per image.
ALTER TABLE instructions ADD COLUMN parent_id BIGINT;
ALTER TABLE instructions ADD COLUMN verify_score DOUBLE;
CREATE INDEX ocr_image ON ocr(image_id);
