SELECT department_code, worker_id FROM department_members ORDER BY department_code, position
