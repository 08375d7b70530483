//! A model of what a database must hold after a crash, built from the outcomes of the
//! commits a workload attempted.
//!
//! Each database has the sequence of commits that reached the engine, in order. A commit is
//! *acknowledged* (its call returned `Ok`) or *uncertain* (its call returned an I/O-type
//! error: it may be fully present or fully absent, never in part). Commits refused before
//! any I/O (conflict, not found, already exists, poisoned) are not recorded at all.
//!
//! After a crash the recovered database must equal the result of applying a prefix of the
//! sequence, with each uncertain commit of the prefix either applied or not, where the
//! prefix includes at least every commit known durable (`must`). The prefix rule holds
//! because the log is one ordered append stream: nothing later can survive without
//! everything earlier.

use std::collections::BTreeMap;

/// One document write of a commit: `Some(bytes)` stores, `None` deletes.
pub type Write = (u64, Option<Vec<u8>>);

pub type Docs = BTreeMap<u64, Vec<u8>>;

#[derive(Clone, Debug)]
pub struct Commit {
    pub writes: Vec<Write>,
    pub acked: bool,
}

/// Whether a database must exist after recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exists {
    Yes,
    No,
    Maybe,
}

#[derive(Clone, Debug)]
pub struct DbModel {
    pub exists: Exists,
    pub commits: Vec<Commit>,
    /// Commits `[0, must)` are durable: every acknowledged one among them must survive.
    pub must: usize,
}

impl Default for DbModel {
    fn default() -> Self {
        DbModel {
            exists: Exists::No,
            commits: Vec::new(),
            must: 0,
        }
    }
}

fn apply(state: &mut Docs, c: &Commit) {
    for (id, w) in &c.writes {
        match w {
            Some(d) => {
                state.insert(*id, d.clone());
            }
            None => {
                state.remove(id);
            }
        }
    }
}

impl DbModel {
    pub fn record(&mut self, writes: Vec<Write>, acked: bool) {
        self.commits.push(Commit { writes, acked });
    }

    /// Everything recorded so far is durable.
    pub fn barrier(&mut self) {
        self.must = self.commits.len();
    }

    /// The state with every recorded commit applied (the acknowledged view, ignoring
    /// uncertainty).
    pub fn latest(&self) -> Docs {
        let mut s = Docs::new();
        for c in &self.commits {
            apply(&mut s, c);
        }
        s
    }

    pub fn certain(&self) -> bool {
        self.commits.iter().all(|c| c.acked)
    }

    /// Every id any commit touched.
    pub fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .commits
            .iter()
            .flat_map(|c| c.writes.iter().map(|w| w.0))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Acknowledged commits that must survive when `all_durable` (a process crash) or only
    /// the durable ones (power loss).
    pub fn required(&self, all_durable: bool) -> usize {
        let upto = if all_durable {
            self.commits.len()
        } else {
            self.must
        };
        self.commits[..upto].iter().filter(|c| c.acked).count()
    }

    /// Whether `actual` is an allowed recovered state. `all_durable`: every recorded commit
    /// counts as durable (the process crashed but the OS kept every write). The error starts
    /// with what went wrong: `wrong bytes`, `partial transaction` or `lost commits`.
    pub fn allows(&self, actual: &Docs, all_durable: bool) -> Result<(), String> {
        let must = if all_durable {
            self.commits.len()
        } else {
            self.must
        };
        if self.explain(actual, must).is_some() {
            return Ok(());
        }
        let expected = self.latest();
        let diff: Vec<String> = expected
            .keys()
            .chain(actual.keys())
            .filter(|id| expected.get(id) != actual.get(id))
            .take(5)
            .map(|id| {
                let show = |v: Option<&Vec<u8>>| {
                    v.map_or("absent".to_string(), |v| {
                        format!(
                            "{} ({} bytes)",
                            String::from_utf8_lossy(&v[..v.len().min(24)]),
                            v.len()
                        )
                    })
                };
                format!(
                    "doc {id}: latest {} / recovered {}",
                    show(expected.get(id)),
                    show(actual.get(id))
                )
            })
            .collect();
        Err(format!(
            "{}: recovered state matches no allowed prefix (commits {}, durable {must}, uncertain {}): {}",
            self.classify(actual),
            self.commits.len(),
            self.commits.iter().filter(|c| !c.acked).count(),
            diff.join("; ")
        ))
    }

    /// The shortest prefix of at least `must` commits, and which of its uncertain commits
    /// were applied, that yields `actual`.
    fn explain(&self, actual: &Docs, must: usize) -> Option<(usize, Vec<usize>)> {
        let mut states: Vec<(Docs, Vec<usize>)> = vec![(Docs::new(), Vec::new())];
        if must == 0 && actual.is_empty() {
            return Some((0, Vec::new()));
        }
        for (i, c) in self.commits.iter().enumerate() {
            if c.acked {
                for (s, _) in &mut states {
                    apply(s, c);
                }
            } else {
                let mut with = states.clone();
                for (s, applied) in &mut with {
                    apply(s, c);
                    applied.push(i);
                }
                states.extend(with);
                states.sort_by(|a, b| a.0.cmp(&b.0));
                states.dedup_by(|a, b| a.0 == b.0);
                assert!(states.len() <= 1024, "too many uncertain commits to model");
            }
            if i + 1 >= must {
                if let Some((_, applied)) = states.iter().find(|(s, _)| s == actual) {
                    return Some((i + 1, applied.clone()));
                }
            }
        }
        None
    }

    /// Why `actual` is not allowed: a value no commit wrote, a transaction seen in part,
    /// or (otherwise) commits that should be there are not.
    pub fn classify(&self, actual: &Docs) -> &'static str {
        for (id, v) in actual {
            let written = self.commits.iter().any(|c| {
                c.writes
                    .iter()
                    .any(|(i, w)| i == id && w.as_ref() == Some(v))
            });
            if !written {
                return "wrong bytes";
            }
        }
        for (k, c) in self.commits.iter().enumerate() {
            if c.writes.len() < 2 {
                continue;
            }
            let later = |id: u64| {
                self.commits[k + 1..]
                    .iter()
                    .any(|l| l.writes.iter().any(|w| w.0 == id))
            };
            let mut seen = false;
            let mut missing = false;
            for (id, w) in &c.writes {
                let Some(w) = w else { continue };
                if actual.get(id) == Some(w) {
                    seen = true;
                } else if !later(*id) {
                    missing = true;
                }
            }
            if seen && missing {
                return "partial transaction";
            }
        }
        "lost commits"
    }

    /// Rewrites the history after the database was observed holding `actual` (allowed):
    /// later commits are gone (recovery cut them off), uncertain ones are settled.
    pub fn rebase(&mut self, actual: &Docs, all_durable: bool) -> Result<(), String> {
        self.allows(actual, all_durable)?;
        let must = if all_durable {
            self.commits.len()
        } else {
            self.must
        };
        let (n, applied) = self.explain(actual, must).expect("allowed");
        let mut kept = Vec::new();
        let mut new_must = 0;
        for (i, c) in self.commits[..n].iter().enumerate() {
            if c.acked || applied.contains(&i) {
                kept.push(Commit {
                    writes: c.writes.clone(),
                    acked: true,
                });
                if i < self.must {
                    new_must = kept.len();
                }
            }
        }
        self.commits = kept;
        self.must = new_must;
        Ok(())
    }
}

/// A payload that names its commit and document, of a length that varies with both.
pub fn payload(commit: u64, id: u64) -> Vec<u8> {
    let tag = format!("c{commit}-d{id}|");
    let len = 20 + ((commit * 37 + id * 11) % 420) as usize;
    tag.bytes().cycle().take(len).collect()
}

/// A payload of exactly `len` bytes that names its commit and document.
pub fn payload_sized(commit: u64, id: u64, len: usize) -> Vec<u8> {
    let tag = format!("c{commit}-d{id}|");
    tag.bytes().cycle().take(len).collect()
}

/// A small deterministic generator (xorshift64*), so runs are reproducible from a seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}
