//! Which ids an ordered read visits: bounds, direction and a limit, the one description of a
//! range that every face (and the wire protocol) maps to.

use std::ops::{Bound, RangeBounds};

/// A range of document ids to read in order: from `start` to `end` (each inclusive,
/// exclusive or open), ascending or descending, at most `limit` documents.
///
/// Bounds that leave no id (`start` after `end`, or `5..5`) are an empty range, not an
/// error, as in SQL's `BETWEEN`. Keyset pagination: read a page, then continue with
/// [`IdRange::after`] the last id seen; it stays cheap however deep the page.
///
/// ```
/// use docdb_core::IdRange;
/// let page = IdRange::new(100..).limit(50);
/// let next = page.after(149); // ids from 150 on, 50 at most
/// assert!(next.contains(150) && !next.contains(149));
/// let newest = IdRange::all().reverse().limit(10);
/// assert!(newest.reverse);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    /// The lowest id (whatever the direction).
    pub start: Bound<u64>,
    /// The highest id (whatever the direction).
    pub end: Bound<u64>,
    /// Descending: from `end` down to `start`.
    pub reverse: bool,
    /// At most this many documents; `None` is no limit.
    pub limit: Option<u64>,
}

impl Default for IdRange {
    fn default() -> Self {
        IdRange::all()
    }
}

impl IdRange {
    /// Every id, ascending, without a limit.
    pub const fn all() -> Self {
        IdRange {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
            reverse: false,
            limit: None,
        }
    }

    /// The ids of `bounds` (`10..20`, `10..=20`, `..20`, `10..`, `..`), ascending.
    pub fn new(bounds: impl RangeBounds<u64>) -> Self {
        IdRange {
            start: bounds.start_bound().cloned(),
            end: bounds.end_bound().cloned(),
            ..IdRange::all()
        }
    }

    /// The same range, descending.
    pub fn reverse(mut self) -> Self {
        self.reverse = true;
        self
    }

    /// The same range, at most `n` documents.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// The rest of this range after `last` in its direction (keyset pagination): what to
    /// read for the next page when the previous one ended at `last`. The limit is kept.
    pub fn after(&self, last: u64) -> Self {
        let mut next = *self;
        if self.reverse {
            next.end = tighter_end(self.end, Bound::Excluded(last));
        } else {
            next.start = tighter_start(self.start, Bound::Excluded(last));
        }
        next
    }

    /// Whether `id` lies within the bounds (the limit aside).
    pub fn contains(&self, id: u64) -> bool {
        self.inclusive()
            .is_some_and(|(lo, hi)| lo <= id && id <= hi)
    }

    /// The bounds as an inclusive `[lo, hi]`, or `None` when they leave no id.
    pub(crate) fn inclusive(&self) -> Option<(u64, u64)> {
        if self.limit == Some(0) {
            return None;
        }
        let lo = match self.start {
            Bound::Unbounded => 0,
            Bound::Included(n) => n,
            Bound::Excluded(n) => n.checked_add(1)?,
        };
        let hi = match self.end {
            Bound::Unbounded => u64::MAX,
            Bound::Included(n) => n,
            Bound::Excluded(n) => n.checked_sub(1)?,
        };
        (lo <= hi).then_some((lo, hi))
    }
}

/// The stricter of two lower bounds.
fn tighter_start(a: Bound<u64>, b: Bound<u64>) -> Bound<u64> {
    let key = |b: Bound<u64>| match b {
        Bound::Unbounded => (0u128, 0),
        Bound::Included(n) => (u128::from(n) + 1, 0),
        Bound::Excluded(n) => (u128::from(n) + 1, 1),
    };
    if key(a) >= key(b) {
        a
    } else {
        b
    }
}

/// The stricter of two upper bounds.
fn tighter_end(a: Bound<u64>, b: Bound<u64>) -> Bound<u64> {
    let key = |b: Bound<u64>| match b {
        Bound::Unbounded => (u128::MAX, 0),
        Bound::Included(n) => (u128::from(n), 1),
        Bound::Excluded(n) => (u128::from(n), 0),
    };
    if key(a) <= key(b) {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_normalise_to_inclusive() {
        assert_eq!(IdRange::all().inclusive(), Some((0, u64::MAX)));
        assert_eq!(IdRange::new(3..7).inclusive(), Some((3, 6)));
        assert_eq!(IdRange::new(3..=7).inclusive(), Some((3, 7)));
        assert_eq!(IdRange::new(5..5).inclusive(), None);
        assert_eq!(
            IdRange::new((Bound::Included(7), Bound::Included(3))).inclusive(),
            None
        );
        assert_eq!(IdRange::new(..0).inclusive(), None);
        assert_eq!(IdRange::new(3..7).limit(0).inclusive(), None);
        let past_max = IdRange {
            start: Bound::Excluded(u64::MAX),
            ..IdRange::all()
        };
        assert_eq!(past_max.inclusive(), None);
    }

    #[test]
    fn after_continues_in_the_direction_and_never_widens() {
        let up = IdRange::new(10..20).limit(3);
        assert_eq!(up.after(12).inclusive(), Some((13, 19)));
        assert_eq!(up.after(12).limit, Some(3));
        // A `last` outside the range cannot widen it.
        assert_eq!(up.after(2).inclusive(), Some((10, 19)));
        assert_eq!(up.after(19).inclusive(), None);
        let down = IdRange::new(10..20).reverse();
        assert_eq!(down.after(15).inclusive(), Some((10, 14)));
        assert_eq!(down.after(30).inclusive(), Some((10, 19)));
        assert_eq!(down.after(10).inclusive(), None);
        assert_eq!(IdRange::all().after(u64::MAX).inclusive(), None);
        assert_eq!(IdRange::all().reverse().after(0).inclusive(), None);
    }
}
