SELECT content_type, data FROM photos WHERE sha256 = $1
