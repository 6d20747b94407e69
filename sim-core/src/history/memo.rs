//! The set of (linearized operations, state) pairs a search has already explored.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

const NONE: u32 = u32::MAX;
/// The bytes an entry costs besides its bitset and state: its chain link and its
/// share of the hash index (a key, a value and hashbrown's control byte, at the
/// index's usual load).
const ENTRY_OVERHEAD: usize = 4 + (8 + 4 + 1) * 8 / 7;

/// An insert-only hash set of (bitset, state) pairs, stored without one allocation
/// per entry: bitsets live side by side in one vector, states in another, and a map
/// from hash to the newest entry with that hash chains the collisions.
#[derive(Debug)]
pub(super) struct Memo<S> {
    heads: FxHashMap<u64, u32>,
    chain: Vec<u32>,
    bits: Vec<u64>,
    states: Vec<S>,
    words: usize,
    /// What the entries hold, in bytes (see [`Memo::bytes`]).
    bytes: usize,
}

impl<S> Default for Memo<S> {
    fn default() -> Self {
        Memo {
            heads: FxHashMap::default(),
            chain: Vec::new(),
            bits: Vec::new(),
            states: Vec::new(),
            words: 1,
            bytes: 0,
        }
    }
}

impl<S> Memo<S> {
    /// The number of entries.
    pub(super) fn len(&self) -> usize {
        self.states.len()
    }

    /// The bytes the entries hold: bitsets, states (as `state_bytes` measured them
    /// when they were added) and the index.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }
}

impl<S: Eq + Hash + Clone> Memo<S> {
    /// Empties the set for bitsets of `words` words, keeping the allocations.
    pub(super) fn reset(&mut self, words: usize) {
        assert!(words > 0, "a memo bitset has at least one word");
        self.heads.clear();
        self.chain.clear();
        self.bits.clear();
        self.states.clear();
        self.words = words;
        self.bytes = 0;
    }

    /// Adds (`bits`, `state`), whose bitset hashes to `bits_hash`; returns whether it
    /// was new. A new entry's state is measured by `state_bytes`.
    pub(super) fn insert(
        &mut self,
        bits_hash: u64,
        bits: &[u64],
        state: &S,
        state_bytes: impl FnOnce(&S) -> usize,
    ) -> bool {
        debug_assert_eq!(bits.len(), self.words);
        let mut hasher = FxHasher::default();
        state.hash(&mut hasher);
        let hash = bits_hash ^ hasher.finish().rotate_left(29);
        let Memo {
            heads,
            chain,
            bits: stored_bits,
            states,
            words,
            bytes,
        } = self;
        let head = heads.entry(hash).or_insert(NONE);
        let mut entry = *head;
        while entry != NONE {
            let index = entry as usize;
            if stored_bits[index * *words..(index + 1) * *words] == *bits && states[index] == *state
            {
                return false;
            }
            entry = chain[index];
        }
        let index = u32::try_from(states.len()).expect("a memo holds fewer than 2^32 entries");
        assert!(index != NONE, "a memo holds fewer than 2^32 - 1 entries");
        chain.push(*head);
        *head = index;
        stored_bits.extend_from_slice(bits);
        states.push(state.clone());
        *bytes += *words * 8 + ENTRY_OVERHEAD + state_bytes(state);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn an_entry_is_new_once_and_colliding_hashes_stay_apart() {
        // Proves insert reports novelty by value, even when two entries share a hash.
        let mut memo = Memo::default();
        memo.reset(2);
        let size = |_: &&str| 100;
        assert!(memo.insert(7, &[1, 0], &"a", size));
        assert!(!memo.insert(7, &[1, 0], &"a", size));
        assert!(memo.insert(7, &[1, 1], &"a", size));
        assert!(memo.insert(7, &[1, 0], &"b", size));
        assert!(!memo.insert(7, &[1, 1], &"a", size));
        assert_eq!(memo.len(), 3);
        // Proves the byte count follows the entries: bitsets, states, index.
        assert_eq!(memo.bytes(), 3 * (2 * 8 + super::ENTRY_OVERHEAD + 100));
        memo.reset(1);
        assert_eq!(memo.len(), 0);
        assert_eq!(memo.bytes(), 0);
        assert!(memo.insert(7, &[1], &"a", size));
    }
}
