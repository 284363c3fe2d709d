-- The positions table keeps no spatial index. Nothing queries past fixes by place (a track is read by
-- worker and time through positions_worker_at; "who is near" uses the latest fix of each worker, kept in
-- memory), and the GiST index was the largest single cost of storing a fix: about a third of the
-- PostgreSQL backend's time under the positions load in BENCHMARKS.md. A query of history by place,
-- when one is needed, should come with its own index, built where it pays (e.g. per time partition).
DROP INDEX IF EXISTS positions_location_gist;
