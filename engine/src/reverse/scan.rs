//! The scan: a [`CompiledPredicate`] over an [`EnterpriseStore`], block by block in parallel.
//!
//! Each node yields two bitmaps over a block's rows, *true* and *false* (neither = unknown), and
//! nodes combine them with bitwise Kleene logic: `and` is `t = t1 & t2, f = f1 | f2`, `or` is
//! `t = t1 | t2, f = f1 & f2`, `not` swaps them. A node is only asked about the rows whose
//! outcome it can still change (`need`): once a row is false for an `and` (true for an `or`),
//! the remaining children skip it, so a selective clause early makes later value scans cheap.
//! Rows outside `need` get arbitrary (but never both true and false) bits, which the parent's
//! own bits override.

use rayon::prelude::*;
use serde::Serialize;

use super::column::{
    BLOCK_WORDS, Code, Codes, Column, DictColumn, IntBlock, IntColumn, LabelRows, with_codes,
};
use super::predicate::{CompiledPredicate, LeafTest, PNode};
use super::store::EnterpriseStore;
use crate::codes::{SizeClass, industry, region};
use crate::fields;
use crate::rule::Outcome;

type Words = [u64; BLOCK_WORDS];

/// Below this many rows to test in a fully known word, rows are tested one by one; above it,
/// all 64 values of the word are tested in one vectorisable loop.
const DENSE_MIN: u32 = 8;

/// A set of rows of a store, as a bitmap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSet {
    words: Vec<u64>,
    len: usize,
}

impl RowSet {
    fn new(words: Vec<u64>) -> RowSet {
        let len = words.iter().map(|w| w.count_ones() as usize).sum();
        RowSet { words, len }
    }

    /// Number of rows in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, row: usize) -> bool {
        self.words
            .get(row >> 6)
            .is_some_and(|w| w & (1 << (row & 63)) != 0)
    }

    /// The rows, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let j = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + j
                })
            })
        })
    }

    /// One bit per row.
    pub fn words(&self) -> &[u64] {
        &self.words
    }
}

/// The enterprises of one group of a breakdown that a policy would reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCount {
    /// Province (`"33"`), city (`"3301"`), size class (`"小型"`) or industry section (`"C"`);
    /// `None` for enterprises where it is unknown.
    pub key: Option<String>,
    /// Chinese name of the group (`"浙江省"`, `"杭州市"`, `"制造业"`), when known.
    pub name: Option<&'static str>,
    pub eligible: u64,
    pub needs_info: u64,
}

/// Who a policy would reach: the preview a policy office sees before publishing.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Rows whose outcome is eligible.
    pub eligible: RowSet,
    /// Rows whose outcome is needs_info (nothing failed, something unknown).
    pub needs_info: RowSet,
    /// By province (2-digit region code).
    pub by_province: Vec<GroupCount>,
    /// By city (4-digit region code); `None` also for enterprises registered at province level.
    pub by_city: Vec<GroupCount>,
    /// By size class (大型 / 中型 / 小型 / 微型).
    pub by_size: Vec<GroupCount>,
    /// By GB/T 4754 section letter.
    pub by_section: Vec<GroupCount>,
}

impl Reach {
    /// The outcome of `row` (ineligible for rows in neither set, removed rows included).
    pub fn outcome(&self, row: usize) -> Outcome {
        if self.eligible.contains(row) {
            Outcome::Eligible
        } else if self.needs_info.contains(row) {
            Outcome::NeedsInfo
        } else {
            Outcome::Ineligible
        }
    }

    /// The ids of the enterprises with `outcome`, in row order.
    pub fn ids<'s>(
        &'s self,
        store: &'s EnterpriseStore,
        outcome: Outcome,
    ) -> Box<dyn Iterator<Item = &'s str> + 's> {
        match outcome {
            Outcome::Eligible => Box::new(self.eligible.iter().filter_map(|r| store.id(r))),
            Outcome::NeedsInfo => Box::new(self.needs_info.iter().filter_map(|r| store.id(r))),
            Outcome::Ineligible => Box::new(
                (0..store.rows())
                    .filter(|&r| !self.eligible.contains(r) && !self.needs_info.contains(r))
                    .filter_map(|r| store.id(r)),
            ),
        }
    }

    /// Up to `n` ids of enterprises with `outcome`, spread evenly over the rows.
    pub fn sample<'s>(
        &'s self,
        store: &'s EnterpriseStore,
        outcome: Outcome,
        n: usize,
    ) -> Vec<&'s str> {
        let total = match outcome {
            Outcome::Eligible => self.eligible.len(),
            Outcome::NeedsInfo => self.needs_info.len(),
            Outcome::Ineligible => store.len() - self.eligible.len() - self.needs_info.len(),
        };
        let n = n.min(total);
        // The i-th pick is the (i × total / n)-th id: strictly increasing as n <= total.
        let mut picks = (0..n).map(|i| i * total / n).peekable();
        self.ids(store, outcome)
            .enumerate()
            .filter(|(k, _)| picks.next_if_eq(k).is_some())
            .map(|(_, id)| id)
            .take(n)
            .collect()
    }
}

/// One clause bound to the store's column.
enum Probe<'s> {
    /// Known rows get `verdict` (`None`: stay unknown).
    Known {
        known: &'s [u64],
        verdict: Option<bool>,
    },
    Bool {
        known: &'s [u64],
        value: &'s [u64],
        want: bool,
    },
    /// Values (or dictionary codes) in the ranges, or with `negate` outside them.
    Int {
        col: &'s IntColumn,
        ranges: Vec<(i128, i128)>,
        negate: bool,
    },
    Labels {
        known: &'s [u64],
        rows: Vec<&'s LabelRows>,
        all: bool,
    },
}

fn bind<'s>(column: &'s Column, test: &LeafTest) -> Probe<'s> {
    let known = column.known_words();
    let dict_ranges = |d: &DictColumn, values: &[String]| {
        let mut codes: Vec<(i128, i128)> = values
            .iter()
            .filter_map(|v| d.lookup(v))
            .map(|c| (i128::from(c), i128::from(c)))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    };
    match (column, test) {
        (_, LeafTest::Known(verdict)) => Probe::Known {
            known,
            verdict: *verdict,
        },
        (Column::Bool(c), LeafTest::Flag(want)) => Probe::Bool {
            known,
            value: &c.value,
            want: *want,
        },
        (Column::Int(c) | Column::Date(c), LeafTest::Values { ranges, negate }) => Probe::Int {
            col: c,
            ranges: ranges.clone(),
            negate: *negate,
        },
        (Column::Dict(d), LeafTest::Strings { values, negate }) => Probe::Int {
            col: &d.codes,
            ranges: dict_ranges(d, values),
            negate: *negate,
        },
        (Column::Dict(d), LeafTest::Prefixes(prefixes)) => {
            let mut ranges: Vec<(i128, i128)> = prefixes
                .iter()
                .map(|p| d.prefix_codes(p))
                .filter(|r| !r.is_empty())
                .map(|r| (i128::from(r.start), i128::from(r.end) - 1))
                .collect();
            ranges.sort_unstable();
            Probe::Int {
                col: &d.codes,
                ranges,
                negate: false,
            }
        }
        (Column::Set(s), LeafTest::Labels { labels, all }) => {
            let rows: Vec<Option<&LabelRows>> = labels.iter().map(|l| s.label_rows(l)).collect();
            if *all && rows.iter().any(Option::is_none) {
                // Nobody has a label no row carries.
                Probe::Known {
                    known,
                    verdict: Some(false),
                }
            } else {
                Probe::Labels {
                    known,
                    rows: rows.into_iter().flatten().collect(),
                    all: *all,
                }
            }
        }
        // The registry gives every field one column kind and one kind of test, so this is not
        // reached; stay total.
        _ => Probe::Known {
            known,
            verdict: None,
        },
    }
}

/// Code ranges of one block for a value-space test.
enum BlockRanges {
    None,
    All,
    Some(Vec<(u64, u64)>),
}

/// Maps value ranges into a block's code space: `value = base + scale × code`, codes in
/// `0..=max_code`.
fn block_ranges(block: &IntBlock, ranges: &[(i128, i128)]) -> BlockRanges {
    let base = i128::from(block.base);
    let scale = i128::from(block.scale);
    let max = i128::from(block.max_code);
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &(lo, hi) in ranges {
        let (a, b) = (lo - base, hi - base);
        let clo = (a.div_euclid(scale) + i128::from(a.rem_euclid(scale) != 0)).max(0);
        let chi = b.div_euclid(scale).min(max);
        if clo > chi {
            continue;
        }
        let (clo, chi) = (clo as u64, chi as u64);
        match out.last_mut() {
            Some(last) if clo <= last.1.saturating_add(1) => last.1 = last.1.max(chi),
            _ => out.push((clo, chi)),
        }
    }
    match out.as_slice() {
        [] => BlockRanges::None,
        [(0, hi)] if *hi as i128 >= max => BlockRanges::All,
        _ => BlockRanges::Some(out),
    }
}

/// Packs eight 0/1 bytes into the low eight bits (byte `i` → bit `i`): the multiplication
/// moves byte `i`'s bit to bit `56 + i` without carries.
#[inline(always)]
fn pack8(bytes: [u8; 8]) -> u64 {
    u64::from_le_bytes(bytes).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Tests the packed values of one block word by word. `codes` are the block's values (known
/// rows only, in row order); writes `t` / `f` for the rows in `known & need`.
#[inline(always)]
fn scan_words<T: Code>(
    codes: &[T],
    known: &[u64],
    need: &[u64],
    flip: u64,
    t: &mut [u64],
    f: &mut [u64],
    test: impl Fn(T) -> bool,
) {
    let mut rank = 0usize;
    for w in 0..known.len() {
        let k = known[w];
        let kn = k & need[w];
        let m = if kn == 0 {
            0
        } else if k == !0 && kn.count_ones() >= DENSE_MIN {
            let mut m = 0u64;
            for (chunk, values) in codes[rank..rank + 64].chunks_exact(8).enumerate() {
                let mut bytes = [0u8; 8];
                for (b, &c) in bytes.iter_mut().zip(values) {
                    *b = u8::from(test(c));
                }
                m |= pack8(bytes) << (8 * chunk);
            }
            m
        } else {
            let mut m = 0u64;
            let mut bits = kn;
            while bits != 0 {
                let j = bits.trailing_zeros();
                let idx = rank + (k & ((1u64 << j) - 1)).count_ones() as usize;
                m |= u64::from(test(codes[idx])) << j;
                bits &= bits - 1;
            }
            m
        } ^ flip;
        t[w] = m & kn;
        f[w] = !m & kn;
        rank += k.count_ones() as usize;
    }
}

fn scan_ranges<T: Code>(
    codes: &[T],
    known: &[u64],
    need: &[u64],
    flip: u64,
    ranges: &[(u64, u64)],
    t: &mut [u64],
    f: &mut [u64],
) {
    if let [(lo, hi)] = ranges {
        let (lo, span) = (T::from_u64(*lo), T::from_u64(hi - lo));
        scan_words(codes, known, need, flip, t, f, |c: T| {
            c.wrapping_sub(lo).le(span)
        });
    } else {
        let ranges: Vec<(T, T)> = ranges
            .iter()
            .map(|&(lo, hi)| (T::from_u64(lo), T::from_u64(hi - lo)))
            .collect();
        scan_words(codes, known, need, flip, t, f, |c: T| {
            ranges.iter().any(|&(lo, span)| c.wrapping_sub(lo).le(span))
        });
    }
}

/// Evaluates a predicate over blocks of one store.
struct Scan<'s> {
    pred: &'s CompiledPredicate,
    probes: Vec<Probe<'s>>,
}

impl Scan<'_> {
    /// Block `b` starts at word `w0` and has `nw` words.
    fn node(&self, n: &PNode, b: usize, nw: usize, need: &Words, t: &mut Words, f: &mut Words) {
        match n {
            PNode::Const(v) => {
                *t = if *v { *need } else { [0; BLOCK_WORDS] };
                *f = if *v { [0; BLOCK_WORDS] } else { *need };
            }
            PNode::Leaf(i) => {
                self.leaf(*i, b, nw, need, t, f);
                if self.pred.leaves[*i].negated {
                    std::mem::swap(t, f);
                }
            }
            PNode::Not(inner) => {
                self.node(inner, b, nw, need, f, t);
            }
            PNode::And(items) | PNode::Or(items) => {
                let and = matches!(n, PNode::And(_));
                // For `and`: t starts all-true, f all-false; a child's false decides.
                *t = if and {
                    [!0; BLOCK_WORDS]
                } else {
                    [0; BLOCK_WORDS]
                };
                *f = if and {
                    [0; BLOCK_WORDS]
                } else {
                    [!0; BLOCK_WORDS]
                };
                let mut open = *need;
                let mut ct = [0u64; BLOCK_WORDS];
                let mut cf = [0u64; BLOCK_WORDS];
                for item in items {
                    if open[..nw].iter().all(|&w| w == 0) {
                        break;
                    }
                    self.node(item, b, nw, &open, &mut ct, &mut cf);
                    for w in 0..nw {
                        if and {
                            t[w] &= ct[w];
                            f[w] |= cf[w];
                            open[w] &= !cf[w];
                        } else {
                            t[w] |= ct[w];
                            f[w] &= cf[w];
                            open[w] &= !ct[w];
                        }
                    }
                }
            }
        }
    }

    fn leaf(&self, i: usize, b: usize, nw: usize, need: &Words, t: &mut Words, f: &mut Words) {
        let w0 = b * BLOCK_WORDS;
        let (t, f, need) = (&mut t[..nw], &mut f[..nw], &need[..nw]);
        let by_mask = |known: &[u64], m: &dyn Fn(usize) -> u64, t: &mut [u64], f: &mut [u64]| {
            for w in 0..nw {
                let kn = known[w0 + w] & need[w];
                let m = m(w);
                t[w] = m & kn;
                f[w] = !m & kn;
            }
        };
        match &self.probes[i] {
            Probe::Known { known, verdict } => {
                for w in 0..nw {
                    let kn = known[w0 + w] & need[w];
                    t[w] = if *verdict == Some(true) { kn } else { 0 };
                    f[w] = if *verdict == Some(false) { kn } else { 0 };
                }
            }
            Probe::Bool { known, value, want } => {
                let flip = if *want { 0 } else { !0 };
                by_mask(known, &|w| value[w0 + w] ^ flip, t, f);
            }
            Probe::Labels { known, rows, all } => {
                let mut bits = [if *all { !0u64 } else { 0 }; BLOCK_WORDS];
                for r in rows {
                    r.combine_words(w0, &mut bits[..nw], *all);
                }
                by_mask(known, &|w| bits[w], t, f);
            }
            Probe::Int {
                col,
                ranges,
                negate,
            } => {
                let known = &col.known[w0..w0 + nw];
                let flip = if *negate { !0 } else { 0 };
                let block = &col.blocks[b];
                match block_ranges(block, ranges) {
                    BlockRanges::None => by_mask(&col.known, &|_| flip, t, f),
                    BlockRanges::All => by_mask(&col.known, &|_| !flip, t, f),
                    BlockRanges::Some(r) => with_codes!(&block.codes, codes => {
                        scan_ranges(codes, known, need, flip, &r, t, f)
                    }),
                }
            }
        }
    }
}

/// Per-dictionary-code counts of eligible and needs_info rows, for the breakdowns.
#[derive(Clone)]
struct Tally {
    /// Indexed by dictionary code; the last entry counts unknowns.
    dims: [Vec<[u64; 2]>; 3],
}

/// Adds one block's eligible (`e`) and needs_info (`n`) rows to `counts`, by dictionary code
/// (the last entry counts unknown values). `codes` are the block's packed codes.
fn tally_block<T: Code>(
    codes: &[T],
    block: &IntBlock,
    known: &[u64],
    e: &[u64],
    n: &[u64],
    counts: &mut [[u64; 2]],
) {
    let unknown = counts.len() - 1;
    let mut rank = 0usize;
    for w in 0..known.len() {
        let k = known[w];
        if e[w] | n[w] != 0 {
            counts[unknown][0] += u64::from((e[w] & !k).count_ones());
            counts[unknown][1] += u64::from((n[w] & !k).count_ones());
            let mut bits = (e[w] | n[w]) & k;
            if k == !0 {
                // Fully known word: the values are the 64 at `rank`.
                while bits != 0 {
                    let j = bits.trailing_zeros();
                    let code = (block.base as u64)
                        .wrapping_add(block.scale.wrapping_mul(codes[rank + j as usize].to_u64()));
                    let slot = usize::from((e[w] >> j) & 1 == 0);
                    counts[(code as usize).min(unknown)][slot] += 1;
                    bits &= bits - 1;
                }
            }
            while bits != 0 {
                let j = bits.trailing_zeros();
                let idx = rank + (k & ((1u64 << j) - 1)).count_ones() as usize;
                let code =
                    (block.base as u64).wrapping_add(block.scale.wrapping_mul(codes[idx].to_u64()));
                let slot = usize::from((e[w] >> j) & 1 == 0);
                counts[(code as usize).min(unknown)][slot] += 1;
                bits &= bits - 1;
            }
        }
        rank += k.count_ones() as usize;
    }
}

/// Who a compiled policy reaches in the store: every live row's outcome, with counts by
/// province, city, size class and industry section. Runs in parallel over blocks of rows.
pub fn reach(store: &EnterpriseStore, pred: &CompiledPredicate) -> Reach {
    let columns = store.columns();
    let scan = Scan {
        pred,
        probes: pred
            .leaves
            .iter()
            .map(|l| bind(&columns[l.field.0 as usize], &l.test))
            .collect(),
    };
    let dict = |name: &str| match fields::lookup(name).map(|f| store.column(f)) {
        Some(Column::Dict(d)) => Some(d),
        _ => None,
    };
    let dims = [dict("region"), dict("industry"), dict("size")];
    let empty = Tally {
        dims: dims.map(|d| vec![[0u64; 2]; d.map_or(0, |d| d.values().len()) + 1]),
    };

    let words = store.live_words().len();
    let mut eligible = vec![0u64; words];
    let mut needs_info = vec![0u64; words];
    let tally = eligible
        .par_chunks_mut(BLOCK_WORDS)
        .zip(needs_info.par_chunks_mut(BLOCK_WORDS))
        .enumerate()
        .fold(
            || empty.clone(),
            |mut tally, (b, (e, n))| {
                let nw = e.len();
                let w0 = b * BLOCK_WORDS;
                let mut live = [0u64; BLOCK_WORDS];
                live[..nw].copy_from_slice(&store.live_words()[w0..w0 + nw]);
                let mut t = [0u64; BLOCK_WORDS];
                let mut f = [0u64; BLOCK_WORDS];
                scan.node(&pred.root, b, nw, &live, &mut t, &mut f);
                for w in 0..nw {
                    e[w] = t[w] & live[w];
                    n[w] = live[w] & !t[w] & !f[w];
                }
                for (counts, d) in tally.dims.iter_mut().zip(dims) {
                    match d {
                        Some(d) => {
                            let block = &d.codes.blocks[b];
                            let known = &d.codes.known[w0..w0 + nw];
                            with_codes!(&block.codes, codes => {
                                tally_block(codes, block, known, e, n, counts)
                            });
                        }
                        None => {
                            let last = counts.len() - 1;
                            counts[last][0] +=
                                e.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
                            counts[last][1] +=
                                n.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
                        }
                    }
                }
                tally
            },
        )
        .reduce(
            || empty.clone(),
            |mut a, b| {
                for (x, y) in a.dims.iter_mut().zip(&b.dims) {
                    for (p, q) in x.iter_mut().zip(y) {
                        p[0] += q[0];
                        p[1] += q[1];
                    }
                }
                a
            },
        );

    let keyed = |i: usize, key: &dyn Fn(&str) -> Option<String>| {
        let values = dims[i].map_or(&[][..], |d| d.values());
        tally.dims[i]
            .iter()
            .enumerate()
            .map(|(code, c)| (values.get(code).and_then(|v| key(v)), *c))
            .collect::<Vec<_>>()
    };
    let digits = |v: &str, n: usize| {
        (region::prefix_form(v).as_deref() == Some(v) && v.len() >= n).then(|| v[..n].to_string())
    };
    Reach {
        eligible: RowSet::new(eligible),
        needs_info: RowSet::new(needs_info),
        by_province: groups(keyed(0, &|v| digits(v, 2)), region::name),
        by_city: groups(keyed(0, &|v| digits(v, 4)), region::city_name),
        by_section: groups(
            keyed(1, &|v| {
                industry::is_well_formed(v).then(|| v[..1].to_string())
            }),
            industry::name,
        ),
        by_size: groups(keyed(2, &|v| Some(v.to_string())), |k| {
            SizeClass::from_label(k).map(SizeClass::label)
        }),
    }
}

/// Sums counts by key; known keys in order, then unknown; empty groups left out.
fn groups(
    entries: Vec<(Option<String>, [u64; 2])>,
    name: impl Fn(&str) -> Option<&'static str>,
) -> Vec<GroupCount> {
    let mut map: std::collections::BTreeMap<Option<String>, [u64; 2]> = Default::default();
    for (k, c) in entries {
        let e = map.entry(k).or_default();
        e[0] += c[0];
        e[1] += c[1];
    }
    let mut out: Vec<GroupCount> = map
        .into_iter()
        .filter(|(_, c)| c[0] + c[1] > 0)
        .map(|(key, c)| GroupCount {
            name: key.as_deref().and_then(&name),
            key,
            eligible: c[0],
            needs_info: c[1],
        })
        .collect();
    out.sort_by_key(|g| g.key.is_none());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack8_maps_byte_i_to_bit_i() {
        for x in 0u32..256 {
            let bytes: [u8; 8] = std::array::from_fn(|i| ((x >> i) & 1) as u8);
            assert_eq!(pack8(bytes), u64::from(x));
        }
    }
}
