SELECT seq, hash FROM audit_anchor WHERE id = 1
