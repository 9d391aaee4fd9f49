//! A small seeded generator (SplitMix64): the whole sequence of a case follows from its seed, so a
//! printed seed replays the same actions. No dependency, no global state.

#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// One of `items`, each as likely as its weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(u32, T)]) -> T {
        let total: u64 = items.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut at = self.below(total);
        for (w, item) in items {
            if at < u64::from(*w) {
                return *item;
            }
            at -= u64::from(*w);
        }
        items[items.len() - 1].1
    }
}

/// The seed of case `n` of a run started from `base`: distinct, and printed so that
/// `YTMAKER_SEAMS_SEED=<it> YTMAKER_SEAMS_CASES=1` replays exactly that case.
pub fn case_seed(base: u64, n: u64) -> u64 {
    base.wrapping_add(n)
}
