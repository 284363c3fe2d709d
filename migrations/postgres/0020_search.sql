-- Full-text search of cases (检索, issue 22), PostgreSQL dialect; the same search as
-- migrations/sqlite/0020_search.sql. A pg_trgm GIN index over `incidents.description` serves
-- `ILIKE '%term%'` for terms of three or more characters, Chinese included (the database's ctype
-- classes CJK characters as letters); shorter terms are checked by ILIKE alone
-- (server/src/store/search.rs). The index follows every insert and update of a case by itself,
-- finished and archived ones included. pg_trgm is a trusted extension of postgresql's contrib.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX incidents_description_trgm ON incidents USING gin (description gin_trgm_ops);
