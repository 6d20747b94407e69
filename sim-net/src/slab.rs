//! A slab with generations: handles name `(slot, generation)`, so a stale
//! handle never reaches a reused slot. Free slots form a list through the
//! slots themselves (no second vector to allocate).

/// The end of the free list.
const NO_SLOT: u32 = u32::MAX;

pub(crate) enum Entry<T> {
    Live(T),
    /// Free; the next free slot (`NO_SLOT`: none).
    Free(u32),
}

pub(crate) struct Slab<T> {
    /// Each slot's generation and contents.
    entries: Vec<(u32, Entry<T>)>,
    /// The first free slot (`NO_SLOT`: none).
    free: u32,
}

impl<T> Default for Slab<T> {
    fn default() -> Slab<T> {
        Slab {
            entries: Vec::new(),
            free: NO_SLOT,
        }
    }
}

impl<T> Slab<T> {
    /// An empty slab on an (empty) recycled buffer.
    pub(crate) fn with_buffer(mut entries: Vec<(u32, Entry<T>)>) -> Slab<T> {
        entries.clear();
        Slab {
            entries,
            free: NO_SLOT,
        }
    }

    /// The slab's buffer, emptied (its values dropped in slot order).
    pub(crate) fn take_buffer(&mut self) -> Vec<(u32, Entry<T>)> {
        self.free = NO_SLOT;
        let mut entries = std::mem::take(&mut self.entries);
        entries.clear();
        entries
    }

    pub(crate) fn insert(&mut self, value: T) -> (u32, u32) {
        match self.free {
            NO_SLOT => {
                let slot = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|slot| *slot != NO_SLOT)
                    .expect("more than 2^32 - 1 sockets");
                self.entries.push((0, Entry::Live(value)));
                (slot, 0)
            }
            slot => {
                let entry = &mut self.entries[slot as usize];
                let Entry::Free(next) = entry.1 else {
                    unreachable!("detsim-net bug: a slot on the free list is live");
                };
                self.free = next;
                entry.0 = entry.0.wrapping_add(1);
                entry.1 = Entry::Live(value);
                (slot, entry.0)
            }
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32, generation: u32) -> Option<&mut T> {
        match self.entries.get_mut(slot as usize) {
            Some((g, Entry::Live(value))) if *g == generation => Some(value),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn slot_mut(&mut self, slot: u32) -> Option<&mut T> {
        match self.entries.get_mut(slot as usize) {
            Some((_, Entry::Live(value))) => Some(value),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, slot: u32, generation: u32) -> Option<T> {
        match self.entries.get_mut(slot as usize) {
            Some((g, entry @ Entry::Live(_))) if *g == generation => {
                match std::mem::replace(entry, Entry::Free(self.free)) {
                    Entry::Live(value) => {
                        self.free = slot;
                        Some(value)
                    }
                    Entry::Free(_) => unreachable!("matched live above"),
                }
            }
            _ => None,
        }
    }
}
