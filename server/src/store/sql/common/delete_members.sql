DELETE FROM department_members WHERE department_code = $1
