SELECT code, id FROM grids
