//! [`CueStore`]: a text track's cues in cue order, deduplicated, budgeted, with fast
//! "which cues are active at t" and "what changed between two times" (for `cuechange`).
//!
//! Cues are kept sorted in *text track cue order* (start ascending, then end descending, then
//! insertion order), with a running maximum of end times beside them: the cues active at `t`
//! are found by a binary search for the last cue starting at or before `t`, then a walk back
//! that stops as soon as every earlier cue is known to have ended (the running maximum is at or
//! before `t`). That costs O(log n + k) for k candidates, independent of the track's length.

use std::cmp::Reverse;

use super::TimedText;

/// A stored cue's identity: stable for as long as the cue stays in its store, never reused by
/// that store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CueId(pub u64);

/// How much a [`CueStore`] may hold. When an insert goes past either limit, the cues that end
/// first are evicted until both hold again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreBudget {
    /// Most cues held.
    pub max_cues: usize,
    /// Most bytes held, as counted by [`TimedText::byte_size`].
    pub max_bytes: usize,
}

impl Default for StoreBudget {
    /// 20,000 cues or 8 MiB: hours of dense subtitles.
    fn default() -> Self {
        StoreBudget {
            max_cues: 20_000,
            max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// What [`CueStore::insert`] did with a cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Stored under this id.
    Added(CueId),
    /// The store already holds a cue with the same start, end and text (a segment repeating a
    /// cue that overlaps its boundary): the new one was dropped, this is the old one's id.
    Duplicate(CueId),
    /// The budget is full of cues that end later than this one: it was not kept.
    OverBudget,
}

/// Which cues changed state between two times: if any list is non-empty the track fires
/// `cuechange`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CueChange {
    /// Active at the second time, not at the first (cue order).
    pub entered: Vec<CueId>,
    /// Active at the first time, not at the second (cue order).
    pub exited: Vec<CueId>,
    /// Moving forward, cues that started and ended between the two times without being active
    /// at either (HTML's "missed cues": they still get their enter and exit events).
    pub missed: Vec<CueId>,
}

impl CueChange {
    /// True when nothing changed (no `cuechange`).
    pub fn is_empty(&self) -> bool {
        self.entered.is_empty() && self.exited.is_empty() && self.missed.is_empty()
    }
}

#[derive(Debug, Clone)]
struct Entry<C> {
    id: CueId,
    start: i64,
    end: i64,
    bytes: usize,
    cue: C,
}

impl<C> Entry<C> {
    fn key(&self) -> (i64, Reverse<i64>, CueId) {
        (self.start, Reverse(self.end), self.id)
    }
}

/// The cues of one text track. See the module documentation for the search structure.
#[derive(Debug, Clone)]
pub struct CueStore<C> {
    entries: Vec<Entry<C>>,
    /// `max_end[i]` = the latest end among `entries[..=i]`.
    max_end: Vec<i64>,
    next_id: u64,
    bytes: usize,
    budget: StoreBudget,
}

impl<C: TimedText> Default for CueStore<C> {
    fn default() -> Self {
        CueStore::new(StoreBudget::default())
    }
}

impl<C: TimedText> CueStore<C> {
    /// An empty store with this budget.
    pub fn new(budget: StoreBudget) -> Self {
        CueStore {
            entries: Vec::new(),
            max_end: Vec::new(),
            next_id: 0,
            bytes: 0,
            budget,
        }
    }

    /// Number of cues held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no cue is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held, as counted by [`TimedText::byte_size`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The budget in force.
    pub fn budget(&self) -> StoreBudget {
        self.budget
    }

    /// Changes the budget; evicts (earliest end first) at once if the store is over it.
    pub fn set_budget(&mut self, budget: StoreBudget) {
        self.budget = budget;
        self.enforce_budget();
    }

    /// Adds a cue unless an identical one (same start, end and text) is already held.
    pub fn insert(&mut self, cue: C) -> Insert {
        let (start, end) = (cue.start_us(), cue.end_us());
        let probe = (start, Reverse(end), CueId(0));
        let first_same = self.entries.partition_point(|e| e.key() < probe);
        for e in self.entries.get(first_same..).unwrap_or_default() {
            if e.start != start || e.end != end {
                break;
            }
            if e.cue.text() == cue.text() {
                return Insert::Duplicate(e.id);
            }
        }
        let id = CueId(self.next_id);
        self.next_id += 1;
        let bytes = cue.byte_size();
        let entry = Entry {
            id,
            start,
            end,
            bytes,
            cue,
        };
        let key = entry.key();
        let at = self.entries.partition_point(|e| e.key() < key);
        self.entries.insert(at, entry);
        self.bytes += bytes;
        self.rebuild_max_end(at);
        if self.enforce_budget() && self.position(id).is_none() {
            Insert::OverBudget
        } else {
            Insert::Added(id)
        }
    }

    /// Inserts every cue; returns how many were added (duplicates and rejected ones not counted).
    pub fn extend(&mut self, cues: impl IntoIterator<Item = C>) -> usize {
        cues.into_iter()
            .map(|c| self.insert(c))
            .filter(|r| matches!(r, Insert::Added(_)))
            .count()
    }

    /// The cue stored under `id`, if it is still held. O(n).
    pub fn get(&self, id: CueId) -> Option<&C> {
        self.position(id)
            .and_then(|i| self.entries.get(i))
            .map(|e| &e.cue)
    }

    /// Removes the cue stored under `id`; returns it if it was held.
    pub fn remove(&mut self, id: CueId) -> Option<C> {
        let i = self.position(id)?;
        let e = self.entries.remove(i);
        self.bytes -= e.bytes;
        self.rebuild_max_end(i);
        Some(e.cue)
    }

    /// Every cue, in cue order.
    pub fn iter(&self) -> impl Iterator<Item = (CueId, &C)> + '_ {
        self.entries.iter().map(|e| (e.id, &e.cue))
    }

    /// The cues active at `time_us` (start ≤ t < end), in cue order.
    pub fn active_at(&self, time_us: i64) -> Vec<(CueId, &C)> {
        let upto = self.entries.partition_point(|e| e.start <= time_us);
        let mut from = upto;
        while from > 0 && self.max_end.get(from - 1).is_some_and(|&m| m > time_us) {
            from -= 1;
        }
        self.entries
            .get(from..upto)
            .unwrap_or_default()
            .iter()
            .filter(|e| e.end > time_us)
            .map(|e| (e.id, &e.cue))
            .collect()
    }

    /// What changed between `from_us` and `to_us` (either direction: a seek back reports the
    /// cues that entered and exited, and no missed cues).
    pub fn changes(&self, from_us: i64, to_us: i64) -> CueChange {
        let before: Vec<CueId> = self.active_at(from_us).iter().map(|(id, _)| *id).collect();
        let after: Vec<CueId> = self.active_at(to_us).iter().map(|(id, _)| *id).collect();
        let sorted = |ids: &[CueId]| {
            let mut v = ids.to_vec();
            v.sort_unstable();
            v
        };
        let (before_set, after_set) = (sorted(&before), sorted(&after));
        let is_in = |set: &[CueId], id: &CueId| set.binary_search(id).is_ok();
        let entered = after
            .iter()
            .filter(|id| !is_in(&before_set, id))
            .copied()
            .collect();
        let exited = before
            .iter()
            .filter(|id| !is_in(&after_set, id))
            .copied()
            .collect();
        let mut missed = Vec::new();
        if to_us > from_us {
            let lo = self.entries.partition_point(|e| e.start < from_us);
            let hi = self.entries.partition_point(|e| e.start <= to_us);
            for e in self.entries.get(lo..hi).unwrap_or_default() {
                if e.end <= to_us && !is_in(&before_set, &e.id) && !is_in(&after_set, &e.id) {
                    missed.push(e.id);
                }
            }
        }
        CueChange {
            entered,
            exited,
            missed,
        }
    }

    /// Drops every cue that ends at or before `time_us` (played or seeked past); returns how
    /// many went.
    pub fn evict_before(&mut self, time_us: i64) -> usize {
        let n = self.entries.len();
        self.entries.retain(|e| e.end > time_us);
        self.bytes = self.entries.iter().map(|e| e.bytes).sum();
        self.rebuild_max_end(0);
        n - self.entries.len()
    }

    /// Drops every cue.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.max_end.clear();
        self.bytes = 0;
    }

    fn position(&self, id: CueId) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id)
    }

    fn rebuild_max_end(&mut self, from: usize) {
        self.max_end.truncate(from);
        let mut running = from
            .checked_sub(1)
            .and_then(|i| self.max_end.get(i))
            .copied()
            .unwrap_or(i64::MIN);
        for e in self.entries.get(from..).unwrap_or_default() {
            running = running.max(e.end);
            self.max_end.push(running);
        }
    }

    /// Evicts (earliest end first) until the budget holds; true if anything went.
    fn enforce_budget(&mut self) -> bool {
        let over = |n: usize, bytes: usize, b: &StoreBudget| n > b.max_cues || bytes > b.max_bytes;
        if !over(self.entries.len(), self.bytes, &self.budget) {
            return false;
        }
        let mut by_end: Vec<(i64, CueId, usize)> = self
            .entries
            .iter()
            .map(|e| (e.end, e.id, e.bytes))
            .collect();
        by_end.sort_unstable();
        let (mut n, mut bytes) = (self.entries.len(), self.bytes);
        let mut doomed = Vec::new();
        for (_, id, b) in by_end {
            if !over(n, bytes, &self.budget) {
                break;
            }
            doomed.push(id);
            n -= 1;
            bytes -= b;
        }
        doomed.sort_unstable();
        self.entries
            .retain(|e| doomed.binary_search(&e.id).is_err());
        self.bytes = bytes;
        self.rebuild_max_end(0);
        true
    }
}
