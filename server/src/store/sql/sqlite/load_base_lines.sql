SELECT kind, name, geometry
FROM base_lines
ORDER BY id
