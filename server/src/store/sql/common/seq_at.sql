SELECT MAX(seq) FROM events WHERE at <= $1
