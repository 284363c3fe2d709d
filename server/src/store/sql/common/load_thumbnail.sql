SELECT data FROM photo_thumbnails WHERE sha256 = $1
