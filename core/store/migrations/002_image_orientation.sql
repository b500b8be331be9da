-- Record the EXIF orientation that was applied on import, and allow per-project settings
-- to be looked up quickly by the GUI without scanning meta.
ALTER TABLE images ADD COLUMN exif_orientation INTEGER;
CREATE INDEX image_sources_image ON image_sources(image_id);
