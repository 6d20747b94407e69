//! A FIFO queue on a plain vector: the ready queue and the timers' near queue.
//!
//! Pushing appends to the vector and popping advances a head index, so both
//! are a few instructions with no wrap-around arithmetic. The consumed front
//! is dropped in bulk: at once when the queue empties (the ready queue empties
//! every time virtual time moves), or when the vector is full and at least
//! half of it is consumed, which keeps both operations amortised O(1) and
//! the memory within a few times the most items queued at once.

/// A FIFO queue of `Copy` items (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct Queue<T> {
    items: Vec<T>,
    /// The index of the front item; `items[..head]` are consumed.
    head: usize,
}

impl<T> Default for Queue<T> {
    fn default() -> Queue<T> {
        Queue {
            items: Vec::new(),
            head: 0,
        }
    }
}

impl<T: Copy> Queue<T> {
    /// A queue of `items`, front first (no copy).
    pub(crate) fn from_vec(items: Vec<T>) -> Queue<T> {
        Queue { items, head: 0 }
    }

    /// The queue's items, front first, and its buffer.
    pub(crate) fn into_vec(mut self) -> Vec<T> {
        self.items.drain(..self.head);
        self.items
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.items.len() - self.head
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == self.items.len()
    }

    #[inline]
    pub(crate) fn push_back(&mut self, item: T) {
        if self.items.len() == self.items.capacity() {
            self.push_full(item);
        } else {
            self.items.push(item);
        }
    }

    /// Pushes onto a full vector: first drops the consumed front when at
    /// least half of it is consumed (the vector grows otherwise).
    #[cold]
    #[inline(never)]
    fn push_full(&mut self, item: T) {
        if self.head > 0 && self.head >= self.items.len() / 2 {
            self.items.drain(..self.head);
            self.head = 0;
        }
        self.items.push(item);
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = *self.items.get(self.head)?;
        self.head += 1;
        if self.head == self.items.len() {
            self.clear();
        }
        Some(item)
    }

    #[inline]
    pub(crate) fn front(&self) -> Option<&T> {
        self.items.get(self.head)
    }

    #[inline]
    pub(crate) fn back(&self) -> Option<&T> {
        if self.is_empty() {
            None
        } else {
            self.items.last()
        }
    }

    #[inline]
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.head = 0;
    }

    /// The items, front first.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items[self.head..].iter()
    }

    /// The index of the first item for which `pred` is false (the items
    /// are partitioned by it).
    pub(crate) fn partition_point(&self, pred: impl FnMut(&T) -> bool) -> usize {
        self.items[self.head..].partition_point(pred)
    }

    /// Inserts `item` at `index` from the front.
    pub(crate) fn insert(&mut self, index: usize, item: T) {
        assert!(index <= self.len(), "queue index out of range");
        self.items.insert(self.head + index, item);
    }

    /// Removes the item at `index` from the front, keeping the others' order.
    pub(crate) fn remove(&mut self, index: usize) -> Option<T> {
        if index >= self.len() {
            return None;
        }
        let item = self.items.remove(self.head + index);
        if self.is_empty() {
            self.clear();
        }
        Some(item)
    }

    /// Removes the item at `index` from the front, putting the back item in
    /// its place.
    pub(crate) fn swap_remove_back(&mut self, index: usize) -> Option<T> {
        if index >= self.len() {
            return None;
        }
        let item = self.items.swap_remove(self.head + index);
        if self.is_empty() {
            self.clear();
        }
        Some(item)
    }
}

impl<T: Copy> Queue<T> {
    /// Puts `item` at the front (the item just popped, or one picked from
    /// the middle to be popped next).
    pub(crate) fn push_front(&mut self, item: T) {
        if self.head > 0 {
            self.head -= 1;
            self.items[self.head] = item;
        } else {
            self.items.insert(0, item);
        }
    }
}

impl<T: Copy> Extend<T> for Queue<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push_back(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::Queue;
    use crate::{Seed, SimRng};

    /// Every operation gives what `VecDeque`'s does, through many wrap-arounds
    /// of the consumed front.
    #[test]
    fn behaves_as_a_vec_deque() {
        let mut rng = SimRng::stream(Seed::new(9), "queue");
        let mut queue = Queue::default();
        let mut reference = VecDeque::new();
        for step in 0..20_000u64 {
            match rng.below(10) {
                0..=3 => {
                    queue.push_back(step);
                    reference.push_back(step);
                }
                4..=6 => assert_eq!(queue.pop_front(), reference.pop_front()),
                7 if !reference.is_empty() => {
                    let index = rng.below(reference.len() as u64) as usize;
                    assert_eq!(
                        queue.swap_remove_back(index),
                        reference.swap_remove_back(index)
                    );
                }
                8 if !reference.is_empty() => {
                    let index = rng.below(reference.len() as u64) as usize;
                    assert_eq!(queue.remove(index), reference.remove(index));
                }
                9 => {
                    let index = rng.below(reference.len() as u64 + 1) as usize;
                    queue.insert(index, step);
                    reference.insert(index, step);
                }
                _ => {}
            }
            assert_eq!(queue.len(), reference.len());
            assert_eq!(queue.front(), reference.front());
            assert_eq!(queue.back(), reference.back());
            assert!(queue.iter().eq(reference.iter()), "step {step}");
        }
        let items = queue.into_vec();
        assert!(items.iter().eq(reference.iter()));
    }
}
