INSERT INTO department_members (department_code, worker_id, position) VALUES ($1, $2, $3)
