//! Column storage of the reverse-matching store.
//!
//! Rows are grouped in blocks of [`BLOCK_ROWS`] (64 words of 64 rows). Every column keeps one
//! *known* bit per row, so that unknown is never confused with false or zero, and stores values
//! only for the known rows, packed in row order inside each block:
//!
//! - [`IntColumn`]: integers (counts, yuan, basis points, and dates as day numbers). Each block has
//!   its own frame `value = base + scale × code` (base = the block's minimum, scale = the greatest
//!   common divisor of the differences) and its own code width (u8, u16, u32 or u64) chosen from
//!   the block's values. A value that does not fit its block's frame re-encodes that block only.
//! - [`DictColumn`]: categories, regions and industries as codes into a *sorted* dictionary of the
//!   distinct strings, stored as an [`IntColumn`] of codes. Because the dictionary is sorted, all
//!   strings that start with a prefix have consecutive codes: `region under "3301"` is an integer
//!   range test.
//! - [`BoolColumn`]: a value bitmap next to the known bitmap.
//! - [`SetColumn`]: one row set per distinct label (a bitmap, or a sorted row list for rare
//!   labels) next to the known bitmap.

use std::ops::Range;

/// Rows per block (the unit of packing, of re-encoding and of parallel work).
pub(crate) const BLOCK_ROWS: usize = BLOCK_WORDS * 64;
/// Bitmap words per block.
pub(crate) const BLOCK_WORDS: usize = 64;
const BLOCK_SHIFT: usize = 12;

/// Number of 64-bit words that hold `rows` bits.
pub(crate) fn words_for(rows: usize) -> usize {
    rows.div_ceil(64)
}

/// The bit of `row` in its word.
fn bit(row: usize) -> u64 {
    1u64 << (row & 63)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// An unsigned code type of a packed block.
pub(crate) trait Code: Copy + Send + Sync + 'static {
    /// Truncating conversion; callers only pass codes that fit.
    fn from_u64(v: u64) -> Self;
    fn to_u64(self) -> u64;
    fn wrapping_sub(self, other: Self) -> Self;
    fn le(self, other: Self) -> bool;
}

macro_rules! impl_code {
    ($($t:ty),*) => {$(
        impl Code for $t {
            #[inline(always)]
            fn from_u64(v: u64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_u64(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn wrapping_sub(self, other: Self) -> Self {
                <$t>::wrapping_sub(self, other)
            }
            #[inline(always)]
            fn le(self, other: Self) -> bool {
                self <= other
            }
        }
    )*};
}
impl_code!(u8, u16, u32, u64);

/// Packed codes of one block, in the narrowest width that holds the block's largest code.
#[derive(Debug, Clone)]
pub(crate) enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
}

/// Runs `$body` with `$v` bound to the block's code vector, whatever its width.
macro_rules! with_codes {
    ($codes:expr, $v:ident => $body:expr) => {
        match $codes {
            Codes::U8($v) => $body,
            Codes::U16($v) => $body,
            Codes::U32($v) => $body,
            Codes::U64($v) => $body,
        }
    };
}
pub(crate) use with_codes;

impl Codes {
    fn for_max(max: u64, capacity: usize) -> Codes {
        if max <= u8::MAX as u64 {
            Codes::U8(Vec::with_capacity(capacity))
        } else if max <= u16::MAX as u64 {
            Codes::U16(Vec::with_capacity(capacity))
        } else if max <= u32::MAX as u64 {
            Codes::U32(Vec::with_capacity(capacity))
        } else {
            Codes::U64(Vec::with_capacity(capacity))
        }
    }

    /// The largest code this width holds.
    fn width_max(&self) -> u64 {
        match self {
            Codes::U8(_) => u8::MAX as u64,
            Codes::U16(_) => u16::MAX as u64,
            Codes::U32(_) => u32::MAX as u64,
            Codes::U64(_) => u64::MAX,
        }
    }

    fn len(&self) -> usize {
        with_codes!(self, v => v.len())
    }

    fn get(&self, i: usize) -> u64 {
        with_codes!(self, v => v[i].to_u64())
    }

    fn set(&mut self, i: usize, c: u64) {
        with_codes!(self, v => v[i] = Code::from_u64(c))
    }

    fn insert(&mut self, i: usize, c: u64) {
        with_codes!(self, v => v.insert(i, Code::from_u64(c)))
    }

    fn push(&mut self, c: u64) {
        with_codes!(self, v => v.push(Code::from_u64(c)))
    }

    fn remove(&mut self, i: usize) {
        with_codes!(self, v => {
            v.remove(i);
        })
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.capacity(),
            Codes::U16(v) => v.capacity() * 2,
            Codes::U32(v) => v.capacity() * 4,
            Codes::U64(v) => v.capacity() * 8,
        }
    }
}

/// The known values of one block of an integer column: `value = base + scale × code`.
#[derive(Debug, Clone)]
pub(crate) struct IntBlock {
    /// At most the smallest value of the block.
    pub(crate) base: i64,
    /// At least 1.
    pub(crate) scale: u64,
    /// At least the largest code of the block.
    pub(crate) max_code: u64,
    pub(crate) codes: Codes,
}

impl IntBlock {
    pub(crate) fn empty() -> IntBlock {
        IntBlock {
            base: 0,
            scale: 1,
            max_code: 0,
            codes: Codes::U8(Vec::new()),
        }
    }

    /// Encodes values in the narrowest frame that holds them all.
    pub(crate) fn encode(values: &[i64]) -> IntBlock {
        let (Some(&min), Some(&max)) = (values.iter().min(), values.iter().max()) else {
            return IntBlock::empty();
        };
        let offset = |v: i64| (i128::from(v) - i128::from(min)) as u64;
        let scale = values
            .iter()
            .fold(0, |g, &v| if g == 1 { 1 } else { gcd(g, offset(v)) })
            .max(1);
        let max_code = offset(max) / scale;
        let mut codes = Codes::for_max(max_code, values.len());
        for &v in values {
            codes.push(offset(v) / scale);
        }
        IntBlock {
            base: min,
            scale,
            max_code,
            codes,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.codes.len()
    }

    pub(crate) fn decode(&self, i: usize) -> i64 {
        self.value_of(self.codes.get(i))
    }

    fn value_of(&self, code: u64) -> i64 {
        (i128::from(self.base) + i128::from(self.scale) * i128::from(code)) as i64
    }

    fn decode_all(&self) -> Vec<i64> {
        (0..self.len()).map(|i| self.decode(i)).collect()
    }

    /// The code of `v` in this block's frame, if it fits.
    fn code_of(&self, v: i64) -> Option<u64> {
        let d = i128::from(v) - i128::from(self.base);
        if d < 0 {
            return None;
        }
        let d = d as u128;
        let scale = u128::from(self.scale);
        if !d.is_multiple_of(scale) {
            return None;
        }
        let c = d / scale;
        (c <= u128::from(self.codes.width_max())).then_some(c as u64)
    }

    /// The smallest and largest value the block may hold (bounds, not exact).
    fn value_bounds(&self) -> (i64, i64) {
        (self.base, self.value_of(self.max_code))
    }

    fn heap_bytes(&self) -> usize {
        self.codes.heap_bytes()
    }
}

/// Integer facts of every enterprise: counts, yuan, basis points, or dates as day numbers
/// (days from 0001-01-01, see [`chrono::Datelike::num_days_from_ce`]).
///
/// Random access ([`IntColumn::get`]) is O(1): each word keeps the number of known rows before
/// it in its block.
#[derive(Debug, Clone, Default)]
pub struct IntColumn {
    pub(crate) known: Vec<u64>,
    /// Per word: known rows before it within its block.
    pub(crate) ranks: Vec<u16>,
    pub(crate) blocks: Vec<IntBlock>,
}

impl IntColumn {
    /// Builds a column from its known bitmap and the blocks' packed values.
    pub(crate) fn from_parts(known: Vec<u64>, blocks: Vec<IntBlock>) -> IntColumn {
        let mut ranks = Vec::with_capacity(known.len());
        let mut rank = 0u16;
        for (w, k) in known.iter().enumerate() {
            if w.is_multiple_of(BLOCK_WORDS) {
                rank = 0;
            }
            ranks.push(rank);
            rank += k.count_ones() as u16;
        }
        IntColumn {
            known,
            ranks,
            blocks,
        }
    }

    /// The value of `row`; `None` when unknown (or past the end).
    pub fn get(&self, row: usize) -> Option<i64> {
        let w = row >> 6;
        let k = *self.known.get(w)?;
        if k & bit(row) == 0 {
            return None;
        }
        let idx = self.ranks[w] as usize + (k & (bit(row) - 1)).count_ones() as usize;
        Some(self.blocks[row >> BLOCK_SHIFT].decode(idx))
    }

    /// One bit per row: set when the value is known.
    pub fn known_words(&self) -> &[u64] {
        &self.known
    }

    /// Number of rows with a known value.
    pub fn known_count(&self) -> usize {
        self.blocks.iter().map(IntBlock::len).sum()
    }

    /// Makes room for `rows` rows (new rows are unknown).
    pub(crate) fn grow(&mut self, rows: usize) {
        let words = words_for(rows);
        while self.known.len() < words {
            let w = self.known.len();
            let rank = if w.is_multiple_of(BLOCK_WORDS) {
                0
            } else {
                self.ranks[w - 1] + self.known[w - 1].count_ones() as u16
            };
            self.known.push(0);
            self.ranks.push(rank);
        }
        let blocks = rows.div_ceil(BLOCK_ROWS);
        if self.blocks.len() < blocks {
            self.blocks.resize_with(blocks, IntBlock::empty);
        }
    }

    /// Sets or clears the value of `row` (which must be within [`IntColumn::grow`]n rows). A
    /// value that does not fit its block's frame re-encodes that block.
    pub(crate) fn set(&mut self, row: usize, value: Option<i64>) {
        let w = row >> 6;
        let k = self.known[w];
        let was_known = k & bit(row) != 0;
        let idx = self.ranks[w] as usize + (k & (bit(row) - 1)).count_ones() as usize;
        let block = &mut self.blocks[row >> BLOCK_SHIFT];
        match (was_known, value) {
            (false, None) => {}
            (true, Some(v)) => match block.code_of(v) {
                Some(c) => {
                    block.codes.set(idx, c);
                    block.max_code = block.max_code.max(c);
                }
                None => {
                    let mut values = block.decode_all();
                    values[idx] = v;
                    *block = IntBlock::encode(&values);
                }
            },
            (false, Some(v)) => {
                match block.code_of(v) {
                    Some(c) => {
                        block.codes.insert(idx, c);
                        block.max_code = block.max_code.max(c);
                    }
                    None => {
                        let mut values = block.decode_all();
                        values.insert(idx, v);
                        *block = IntBlock::encode(&values);
                    }
                }
                self.known[w] |= bit(row);
                self.shift_ranks(w, true);
            }
            (true, None) => {
                block.codes.remove(idx);
                self.known[w] &= !bit(row);
                self.shift_ranks(w, false);
            }
        }
    }

    /// Adds or subtracts one to the ranks of the words after `w` in its block.
    fn shift_ranks(&mut self, w: usize, up: bool) {
        let end = ((w / BLOCK_WORDS + 1) * BLOCK_WORDS).min(self.ranks.len());
        for r in &mut self.ranks[w + 1..end] {
            *r = if up { *r + 1 } else { *r - 1 };
        }
    }

    /// Adds one to every value `>= from` (dictionary codes after an insertion). Blocks wholly
    /// above `from` only move their base.
    fn shift_values_from(&mut self, from: i64) {
        for block in &mut self.blocks {
            if block.len() == 0 {
                continue;
            }
            let (lo, hi) = block.value_bounds();
            if lo >= from {
                block.base += 1;
            } else if hi >= from {
                let values: Vec<i64> = block
                    .decode_all()
                    .into_iter()
                    .map(|v| if v >= from { v + 1 } else { v })
                    .collect();
                *block = IntBlock::encode(&values);
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.known.capacity() * 8
            + self.ranks.capacity() * 2
            + self.blocks.capacity() * std::mem::size_of::<IntBlock>()
            + self.blocks.iter().map(IntBlock::heap_bytes).sum::<usize>()
    }
}

/// Strings of a closed or slowly growing vocabulary (categories, region and industry codes) as
/// codes into a sorted dictionary.
///
/// Region values are kept in their GB/T 2260 prefix form (`330100` → `3301`), exactly as the
/// interpreter compares them; a malformed code is kept as written.
#[derive(Debug, Clone, Default)]
pub struct DictColumn {
    /// Distinct values, sorted; a row's code is an index here.
    pub(crate) dict: Vec<String>,
    pub(crate) codes: IntColumn,
}

impl DictColumn {
    /// The distinct values, sorted (codes are indices into this slice).
    pub fn values(&self) -> &[String] {
        &self.dict
    }

    /// The code of `row`'s value; `None` when unknown.
    pub fn code(&self, row: usize) -> Option<u32> {
        self.codes.get(row).map(|c| c as u32)
    }

    /// The value of `row`; `None` when unknown.
    pub fn value(&self, row: usize) -> Option<&str> {
        self.code(row).map(|c| self.dict[c as usize].as_str())
    }

    /// The code of a value, if any row has (or had) it.
    pub fn lookup(&self, value: &str) -> Option<u32> {
        self.dict
            .binary_search_by(|s| s.as_str().cmp(value))
            .ok()
            .map(|i| i as u32)
    }

    /// The codes of all values that start with `prefix` (consecutive, as the dictionary is
    /// sorted).
    pub fn prefix_codes(&self, prefix: &str) -> Range<u32> {
        let lo = self.dict.partition_point(|s| s.as_str() < prefix);
        let hi = lo + self.dict[lo..].partition_point(|s| s.starts_with(prefix));
        lo as u32..hi as u32
    }

    /// The underlying codes (for scans written by hand).
    pub fn codes(&self) -> &IntColumn {
        &self.codes
    }

    pub(crate) fn grow(&mut self, rows: usize) {
        self.codes.grow(rows);
    }

    /// Sets or clears `row`'s value. A value never seen before enters the dictionary in sorted
    /// position; codes after it move up by one (blocks wholly above it only change their base).
    pub(crate) fn set(&mut self, row: usize, value: Option<&str>) {
        let code = value.map(
            |v| match self.dict.binary_search_by(|s| s.as_str().cmp(v)) {
                Ok(i) => i,
                Err(i) => {
                    self.dict.insert(i, v.to_string());
                    self.codes.shift_values_from(i as i64);
                    i
                }
            },
        );
        self.codes.set(row, code.map(|c| c as i64));
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.codes.heap_bytes()
            + self.dict.capacity() * std::mem::size_of::<String>()
            + self.dict.iter().map(String::capacity).sum::<usize>()
    }
}

/// Yes/no facts: a value bitmap next to the known bitmap.
#[derive(Debug, Clone, Default)]
pub struct BoolColumn {
    pub(crate) known: Vec<u64>,
    pub(crate) value: Vec<u64>,
}

impl BoolColumn {
    /// The value of `row`; `None` when unknown.
    pub fn get(&self, row: usize) -> Option<bool> {
        let w = row >> 6;
        let k = *self.known.get(w)?;
        (k & bit(row) != 0).then(|| self.value[w] & bit(row) != 0)
    }

    /// One bit per row: set when known.
    pub fn known_words(&self) -> &[u64] {
        &self.known
    }

    /// One bit per row: set when known and true.
    pub fn value_words(&self) -> &[u64] {
        &self.value
    }

    pub(crate) fn grow(&mut self, rows: usize) {
        let words = words_for(rows);
        self.known.resize(words.max(self.known.len()), 0);
        self.value.resize(words.max(self.value.len()), 0);
    }

    pub(crate) fn set(&mut self, row: usize, value: Option<bool>) {
        let w = row >> 6;
        self.known[w] &= !bit(row);
        self.value[w] &= !bit(row);
        if let Some(v) = value {
            self.known[w] |= bit(row);
            if v {
                self.value[w] |= bit(row);
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        (self.known.capacity() + self.value.capacity()) * 8
    }
}

/// The rows that carry one label.
#[derive(Debug, Clone)]
pub(crate) enum LabelRows {
    /// One bit per row.
    Dense(Vec<u64>),
    /// Sorted rows, for labels on fewer than 1 row in 32.
    Sparse(Vec<u32>),
}

impl LabelRows {
    /// Dense beats sparse when more than one row in 32 has the label.
    pub(crate) fn prefers_dense(count: usize, rows: usize) -> bool {
        count * 32 > rows
    }

    pub(crate) fn contains(&self, row: usize) -> bool {
        match self {
            LabelRows::Dense(words) => words.get(row >> 6).is_some_and(|w| w & bit(row) != 0),
            LabelRows::Sparse(rows) => rows.binary_search(&(row as u32)).is_ok(),
        }
    }

    /// ORs (or with `and`, ANDs) the label's bits of words `w0..w0 + out.len()` into `out`.
    pub(crate) fn combine_words(&self, w0: usize, out: &mut [u64], and: bool) {
        match self {
            LabelRows::Dense(words) => {
                for (o, w) in out.iter_mut().zip(&words[w0..]) {
                    if and {
                        *o &= w;
                    } else {
                        *o |= w;
                    }
                }
            }
            LabelRows::Sparse(rows) => {
                let first = (w0 * 64) as u32;
                let end = ((w0 + out.len()) * 64) as u64;
                let start = rows.partition_point(|&r| r < first);
                if and {
                    let mut mask = vec![0u64; out.len()];
                    for &r in rows[start..].iter().take_while(|&&r| u64::from(r) < end) {
                        let r = r as usize;
                        mask[(r >> 6) - w0] |= bit(r);
                    }
                    for (o, m) in out.iter_mut().zip(mask) {
                        *o &= m;
                    }
                } else {
                    for &r in rows[start..].iter().take_while(|&&r| u64::from(r) < end) {
                        let r = r as usize;
                        out[(r >> 6) - w0] |= bit(r);
                    }
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            LabelRows::Dense(w) => w.capacity() * 8,
            LabelRows::Sparse(r) => r.capacity() * 4,
        }
    }
}

/// Label sets (tags, qualifications, guarantee types): one row set per distinct label, plus a
/// bitmap of rows whose set is known (a known empty set is known).
#[derive(Debug, Clone, Default)]
pub struct SetColumn {
    pub(crate) known: Vec<u64>,
    /// Distinct labels, sorted.
    pub(crate) labels: Vec<String>,
    /// The rows of each label, parallel to `labels`.
    pub(crate) rows: Vec<LabelRows>,
    pub(crate) nrows: usize,
}

impl SetColumn {
    /// The distinct labels, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Whether `row`'s set holds `label`; `None` when the set is unknown.
    pub fn has(&self, row: usize, label: &str) -> Option<bool> {
        if !self.is_known(row) {
            return None;
        }
        Some(
            self.label_rows(label)
                .is_some_and(|rows| rows.contains(row)),
        )
    }

    /// The index of a label in [`labels`](Self::labels), for [`has_index`](Self::has_index).
    pub fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.binary_search_by(|l| l.as_str().cmp(label)).ok()
    }

    /// Whether `row`'s set holds the label at `index`; `None` when the set is unknown.
    pub fn has_index(&self, row: usize, index: usize) -> Option<bool> {
        self.is_known(row)
            .then(|| self.rows.get(index).is_some_and(|r| r.contains(row)))
    }

    /// Whether `row`'s set is known.
    pub fn is_known(&self, row: usize) -> bool {
        self.known.get(row >> 6).is_some_and(|w| w & bit(row) != 0)
    }

    /// The labels of `row`, sorted; `None` when unknown.
    pub fn labels_of(&self, row: usize) -> Option<Vec<&str>> {
        self.is_known(row).then(|| {
            self.labels
                .iter()
                .zip(&self.rows)
                .filter(|(_, r)| r.contains(row))
                .map(|(l, _)| l.as_str())
                .collect()
        })
    }

    /// One bit per row: set when the set is known.
    pub fn known_words(&self) -> &[u64] {
        &self.known
    }

    pub(crate) fn label_rows(&self, label: &str) -> Option<&LabelRows> {
        self.labels
            .binary_search_by(|l| l.as_str().cmp(label))
            .ok()
            .map(|i| &self.rows[i])
    }

    pub(crate) fn grow(&mut self, rows: usize) {
        self.nrows = self.nrows.max(rows);
        let words = words_for(self.nrows);
        if self.known.len() < words {
            self.known.resize(words, 0);
            for r in &mut self.rows {
                if let LabelRows::Dense(w) = r {
                    w.resize(words, 0);
                }
            }
        }
    }

    pub(crate) fn set<'a>(
        &mut self,
        row: usize,
        labels: Option<impl IntoIterator<Item = &'a str>>,
    ) {
        let w = row >> 6;
        for r in &mut self.rows {
            match r {
                LabelRows::Dense(words) => words[w] &= !bit(row),
                LabelRows::Sparse(rows) => {
                    if let Ok(i) = rows.binary_search(&(row as u32)) {
                        rows.remove(i);
                    }
                }
            }
        }
        self.known[w] &= !bit(row);
        let Some(labels) = labels else {
            return;
        };
        self.known[w] |= bit(row);
        let words = self.known.len();
        for label in labels {
            let i = match self.labels.binary_search_by(|l| l.as_str().cmp(label)) {
                Ok(i) => i,
                Err(i) => {
                    self.labels.insert(i, label.to_string());
                    self.rows.insert(i, LabelRows::Sparse(Vec::new()));
                    i
                }
            };
            let dense = match &mut self.rows[i] {
                LabelRows::Dense(words) => {
                    words[w] |= bit(row);
                    None
                }
                LabelRows::Sparse(rows) => {
                    if let Err(at) = rows.binary_search(&(row as u32)) {
                        rows.insert(at, row as u32);
                    }
                    // Hysteresis: turn dense well past the break-even point.
                    LabelRows::prefers_dense(rows.len() / 2, self.nrows).then(|| {
                        let mut dense = vec![0u64; words];
                        for &r in rows.iter() {
                            dense[r as usize >> 6] |= bit(r as usize);
                        }
                        dense
                    })
                }
            };
            if let Some(dense) = dense {
                self.rows[i] = LabelRows::Dense(dense);
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.known.capacity() * 8
            + self.labels.capacity() * std::mem::size_of::<String>()
            + self.labels.iter().map(String::capacity).sum::<usize>()
            + self.rows.capacity() * std::mem::size_of::<LabelRows>()
            + self.rows.iter().map(LabelRows::heap_bytes).sum::<usize>()
    }
}

/// The column of one registry field.
#[derive(Debug, Clone)]
pub enum Column {
    /// No column: personal free text (names, ID numbers, phones) is not used to select
    /// enterprises.
    Text,
    Bool(BoolColumn),
    /// Int, Money (yuan) and Percent (basis points) fields.
    Int(IntColumn),
    /// Dates as day numbers (`NaiveDate::num_days_from_ce`).
    Date(IntColumn),
    /// Enum, Region (prefix form) and Industry fields.
    Dict(DictColumn),
    Set(SetColumn),
}

impl Column {
    pub(crate) fn grow(&mut self, rows: usize) {
        match self {
            Column::Text => {}
            Column::Bool(c) => c.grow(rows),
            Column::Int(c) | Column::Date(c) => c.grow(rows),
            Column::Dict(c) => c.grow(rows),
            Column::Set(c) => c.grow(rows),
        }
    }

    /// The known bitmap (empty for [`Column::Text`]).
    pub fn known_words(&self) -> &[u64] {
        match self {
            Column::Text => &[],
            Column::Bool(c) => &c.known,
            Column::Int(c) | Column::Date(c) => &c.known,
            Column::Dict(c) => &c.codes.known,
            Column::Set(c) => &c.known,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Column::Text => 0,
            Column::Bool(c) => c.heap_bytes(),
            Column::Int(c) | Column::Date(c) => c.heap_bytes(),
            Column::Dict(c) => c.heap_bytes(),
            Column::Set(c) => c.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_pick_base_scale_and_width() {
        let b = IntBlock::encode(&[3_000, 1_000, 5_000, 1_000]);
        assert_eq!((b.base, b.scale, b.max_code), (1_000, 2_000, 2));
        assert!(matches!(b.codes, Codes::U8(_)));
        assert_eq!(b.decode_all(), vec![3_000, 1_000, 5_000, 1_000]);
        let b = IntBlock::encode(&[i64::MIN, i64::MAX, 0]);
        assert!(matches!(b.codes, Codes::U64(_)));
        assert_eq!(b.decode_all(), vec![i64::MIN, i64::MAX, 0]);
        let b = IntBlock::encode(&[7, 7]);
        assert_eq!((b.scale, b.max_code), (1, 0));
    }

    #[test]
    fn set_re_encodes_only_when_a_value_does_not_fit() {
        let mut c = IntColumn::default();
        c.grow(BLOCK_ROWS * 2 + 5);
        for row in [0, 5, 64, 4095, 4096, 8192] {
            c.set(row, Some(row as i64 * 10));
        }
        assert_eq!(c.get(64), Some(640));
        assert_eq!(c.get(63), None);
        c.set(5, Some(-3));
        c.set(64, None);
        c.set(63, Some(i64::MAX));
        assert_eq!(
            [0, 5, 63, 64, 4095, 4096, 8192].map(|r| c.get(r)),
            [
                Some(0),
                Some(-3),
                Some(i64::MAX),
                None,
                Some(40950),
                Some(40960),
                Some(81920)
            ]
        );
        assert_eq!(c.known_count(), 6);
    }

    #[test]
    fn dictionary_stays_sorted_and_prefixes_are_ranges() {
        let mut d = DictColumn::default();
        d.grow(BLOCK_ROWS + 10);
        d.set(0, Some("3301"));
        d.set(1, Some("330106"));
        d.set(BLOCK_ROWS + 1, Some("4403"));
        d.set(2, Some("33"));
        d.set(3, Some("11"));
        assert_eq!(d.values(), ["11", "33", "3301", "330106", "4403"]);
        assert_eq!(d.value(0), Some("3301"));
        assert_eq!(d.value(BLOCK_ROWS + 1), Some("4403"));
        assert_eq!(d.prefix_codes("33"), 1..4);
        assert_eq!(d.prefix_codes("3301"), 2..4);
        assert_eq!(d.prefix_codes("5"), 5..5);
    }

    #[test]
    fn sets_switch_to_bitmaps() {
        let mut s = SetColumn::default();
        s.grow(100);
        for row in 0..10 {
            s.set(row, Some(["外贸", "老字号"]));
        }
        s.set(3, None::<[&str; 0]>);
        s.set(4, Some([]));
        assert!(matches!(s.label_rows("外贸"), Some(LabelRows::Dense(_))));
        assert_eq!(s.has(0, "外贸"), Some(true));
        assert_eq!(s.has(3, "外贸"), None);
        assert_eq!(s.has(4, "外贸"), Some(false));
        assert_eq!(s.labels_of(1), Some(vec!["外贸", "老字号"]));
    }
}
