SELECT code, id FROM regions
