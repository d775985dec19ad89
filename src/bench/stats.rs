//! Latency statistics over per-request samples in microseconds.
//!
//! Every connection keeps its own `Vec` of samples (no sharing on the hot path); the vectors are
//! merged and sorted once at the end of a scenario. At tens of thousands of requests per second
//! for ten seconds that is a few megabytes, which buys exact percentiles instead of a bucketed
//! approximation.

use serde::Serialize;

/// The summary of one scenario's latencies, all in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: u64,
}

impl LatencySummary {
    /// Summarises samples in any order; an empty set summarises to zeros.
    pub fn from_samples(mut samples: Vec<u64>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        let count = samples.len() as u64;
        Self {
            count,
            p50_us: percentile(&samples, 500),
            p99_us: percentile(&samples, 990),
            max_us: samples.last().copied().unwrap_or_default(),
            mean_us: u64::try_from(sum / u128::from(count)).unwrap_or(u64::MAX),
        }
    }
}

/// Nearest-rank percentile of sorted samples, with the percentile in per mille (p99 = 990):
/// the smallest sample such that at least that share of the samples is less than or equal to
/// it. Integer arithmetic, so p99 of 100 samples is exactly the 99th, not a float neighbour.
pub fn percentile(sorted: &[u64], per_mille: u64) -> u64 {
    let n = sorted.len() as u64;
    if n == 0 {
        return 0;
    }
    let rank = (per_mille.min(1000) * n).div_ceil(1000).clamp(1, n);
    sorted[(rank - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_hundred_are_the_ranks() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 500), 50);
        assert_eq!(percentile(&sorted, 990), 99);
        assert_eq!(percentile(&sorted, 1000), 100);
        assert_eq!(percentile(&sorted, 0), 1);
    }

    #[test]
    fn nearest_rank_rounds_up_between_samples() {
        // 10 samples: p50 is the 5th, p99 needs 9.9 samples so it is the 10th.
        let sorted: Vec<u64> = (1..=10).map(|v| v * 10).collect();
        assert_eq!(percentile(&sorted, 500), 50);
        assert_eq!(percentile(&sorted, 990), 100);
        assert_eq!(percentile(&sorted, 910), 100);
        assert_eq!(percentile(&sorted, 900), 90);
    }

    #[test]
    fn one_slow_request_in_a_hundred_stays_out_of_p99_and_two_do_not() {
        let mut one = vec![100; 99];
        one.push(9_000);
        let summary = LatencySummary::from_samples(one);
        assert_eq!(
            (summary.p50_us, summary.p99_us, summary.max_us),
            (100, 100, 9_000)
        );

        let mut two = vec![100; 98];
        two.extend([9_000, 8_000]);
        let summary = LatencySummary::from_samples(two);
        assert_eq!((summary.p99_us, summary.max_us), (8_000, 9_000));
    }

    #[test]
    fn summary_sorts_its_input_and_computes_the_mean() {
        let summary = LatencySummary::from_samples(vec![30, 10, 20, 40]);
        assert_eq!(
            summary,
            LatencySummary {
                count: 4,
                p50_us: 20,
                p99_us: 40,
                max_us: 40,
                mean_us: 25
            }
        );
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let summary = LatencySummary::from_samples(vec![7]);
        assert_eq!(
            (summary.count, summary.p50_us, summary.p99_us, summary.max_us),
            (1, 7, 7, 7)
        );
    }

    #[test]
    fn no_samples_summarise_to_zeros() {
        assert_eq!(
            LatencySummary::from_samples(Vec::new()),
            LatencySummary::default()
        );
        assert_eq!(percentile(&[], 990), 0);
    }
}
