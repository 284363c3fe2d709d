-- Full-text search of cases (检索, issue 22), SQLite dialect; the same search as
-- migrations/postgres/0020_search.sql. An FTS5 index over `incidents.description` with the `trigram`
-- tokenizer, so any run of three or more characters matches, Chinese (which has no spaces between
-- words) as well as Latin script; shorter terms fall back to LIKE on the table
-- (server/src/store/search.rs). External content: the index holds no second copy of the text, and the
-- triggers keep it in step with every insert, update and delete of a case, finished and archived ones
-- included.
CREATE VIRTUAL TABLE incidents_fts USING fts5 (
    description,
    content = 'incidents',
    content_rowid = 'id',
    tokenize = 'trigram'
);

INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild');

CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents
BEGIN
    INSERT INTO incidents_fts (rowid, description) VALUES (new.id, new.description);
END;

CREATE TRIGGER incidents_fts_update AFTER UPDATE OF description ON incidents
BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, description) VALUES ('delete', old.id, old.description);
    INSERT INTO incidents_fts (rowid, description) VALUES (new.id, new.description);
END;

CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents
BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, description) VALUES ('delete', old.id, old.description);
END;
