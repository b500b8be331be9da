-- Provenance of imported captions: the file and row they came from (mmstudio captions import).
ALTER TABLE captions ADD COLUMN source VARCHAR;
