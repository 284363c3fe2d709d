SELECT cell, last_at FROM cell_visits
