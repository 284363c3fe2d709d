-- Asks the database to answer, and nothing else (`Store::ping`, `/ready`).
SELECT 1
