SELECT code, name FROM departments ORDER BY code
