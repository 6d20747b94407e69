//! A slab with generations: handles name `(slot, generation)`, so a stale
//! handle never reaches a reused slot.

pub(crate) struct Slab<T> {
    entries: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Slab<T> {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    pub(crate) fn insert(&mut self, value: T) -> (u32, u32) {
        match self.free.pop() {
            Some(slot) => {
                let entry = &mut self.entries[slot as usize];
                entry.0 = entry.0.wrapping_add(1);
                entry.1 = Some(value);
                (slot, entry.0)
            }
            None => {
                self.entries.push((0, Some(value)));
                (
                    u32::try_from(self.entries.len() - 1).expect("more than 2^32 sockets"),
                    0,
                )
            }
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32, generation: u32) -> Option<&mut T> {
        match self.entries.get_mut(slot as usize) {
            Some((g, Some(value))) if *g == generation => Some(value),
            _ => None,
        }
    }

    /// The live value in `slot`, whatever its generation.
    #[inline]
    pub(crate) fn slot_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.entries.get_mut(slot as usize)?.1.as_mut()
    }

    pub(crate) fn remove(&mut self, slot: u32, generation: u32) -> Option<T> {
        match self.entries.get_mut(slot as usize) {
            Some((g, value @ Some(_))) if *g == generation => {
                self.free.push(slot);
                value.take()
            }
            _ => None,
        }
    }
}
