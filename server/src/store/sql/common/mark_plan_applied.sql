UPDATE boundary_plans SET status = 'applied', version_id = $1 WHERE id = $2 AND status = 'draft'
