//! The Benjamini–Hochberg step-up procedure: which of many simultaneous tests to call significant
//! while keeping the expected share of false discoveries at `q`.
#![expect(
    clippy::cast_precision_loss,
    reason = "test counts are far below 2^52, where usize to f64 is exact"
)]

/// The largest p-value to reject among `p_values`, out of `m` tests in all (`m ≥ p_values.len()`:
/// the tests not listed, such as cells with no case in the window, have p = 1 and only count).
/// Rejects every p ≤ the returned value; `None` rejects nothing.
///
/// Step-up: with the p-values sorted, `p(1) ≤ … ≤ p(n)`, the largest `k` with `p(k) ≤ k·q/m`;
/// all of `p(1)…p(k)` are rejected, even those above their own line.
#[must_use]
pub fn threshold(p_values: &[f64], m: usize, q: f64) -> Option<f64> {
    let m = m.max(p_values.len());
    let mut sorted: Vec<f64> = p_values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .iter()
        .enumerate()
        .rev()
        .find(|&(i, &p)| p <= (i + 1) as f64 * q / m as f64)
        .map(|(_, &p)| p)
}

/// The BH-adjusted p-values (q-values) in the input order: `min over j ≥ i of p(j)·m/j`, capped at 1.
#[must_use]
pub fn adjusted(p_values: &[f64], m: usize) -> Vec<f64> {
    let m = m.max(p_values.len()) as f64;
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let mut out = vec![1.0; p_values.len()];
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p_values[i] * m / (rank + 1) as f64);
        out[i] = running.min(1.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 15 p-values of Benjamini & Hochberg (1995), section 4.1: at q = 0.05 the procedure
    /// rejects the four smallest (Bonferroni rejects three).
    const BH_1995: [f64; 15] = [
        0.0201, 0.7590, 0.0001, 0.0004, 0.0019, 0.0095, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
        0.4262, 0.5719, 0.6528, 1.0,
    ];

    #[test]
    fn textbook_example_rejects_four() {
        let cut = threshold(&BH_1995, 15, 0.05);
        assert_eq!(cut, Some(0.0095));
        assert_eq!(BH_1995.iter().filter(|&&p| p <= 0.0095).count(), 4);
    }

    #[test]
    fn step_up_rejects_a_p_value_above_its_own_line() {
        // p(1) = 0.02 > 0.05/2 but p(2) = 0.04 ≤ 2·0.05/2, so both go.
        assert_eq!(threshold(&[0.04, 0.02], 2, 0.05), Some(0.04));
    }

    #[test]
    fn unlisted_tests_count() {
        assert_eq!(threshold(&[0.01], 1, 0.05), Some(0.01));
        assert_eq!(threshold(&[0.01], 10, 0.05), None);
        assert_eq!(threshold(&[], 10, 0.05), None);
    }

    #[test]
    fn adjusted_agrees_with_threshold() {
        let q = adjusted(&BH_1995, 15);
        let rejected: Vec<bool> = q.iter().map(|&v| v <= 0.05).collect();
        let by_cut: Vec<bool> = BH_1995.iter().map(|&p| p <= 0.0095).collect();
        assert_eq!(rejected, by_cut);
        // p = 0.0001 × 15 / 1 = 0.0015.
        assert!((q[2] - 0.0015).abs() < 1e-12);
    }
}
