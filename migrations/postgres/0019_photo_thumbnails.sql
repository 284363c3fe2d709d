-- Photo thumbnails (issue 22): a small JPEG made once per stored photo, kept beside it so the command
-- centre's drawer can show evidence without sending every full-size photo. `data` is NULL when the
-- photo could not be decoded (a WebP, a damaged file): the attempt is made once, not on every request.
CREATE TABLE photo_thumbnails (
    sha256 text PRIMARY KEY REFERENCES photos (sha256),
    data   bytea
);
