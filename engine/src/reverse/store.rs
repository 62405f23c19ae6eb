//! [`EnterpriseStore`]: every enterprise in columns, built in bulk and changed one at a time.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use rayon::prelude::*;

use super::ReverseError;
use super::column::{
    BLOCK_ROWS, BLOCK_WORDS, BoolColumn, Column, DictColumn, IntBlock, IntColumn, LabelRows,
    SetColumn, words_for,
};
use crate::codes::region;
use crate::fields::{FIELDS, Fact, FieldId, FieldType};
use crate::model::Enterprise;

/// Rows are `u32` inside the store; `u32::MAX` marks an empty hash slot.
const MAX_ROWS: usize = u32::MAX as usize - 1;
const EMPTY: u32 = u32::MAX;
/// Blocks extracted in parallel per batch by [`EnterpriseStore::build`].
const BATCH_BLOCKS: usize = 16;

/// All enterprises in columns, for reverse matching (政策找人) by scanning.
///
/// One column per rule-usable field of the registry ([`crate::fields::FIELDS`]; personal free
/// text has none), each keeping unknown apart from false and zero. See the module
/// documentation of [`crate::reverse`] for the layout and its memory figures.
///
/// Rows are positions `0..rows()`; an enterprise keeps its row across [`upsert`]s. A
/// [`remove`]d enterprise's row is tombstoned: it never matches, and upserting the same id
/// again revives it in place.
///
/// The store never panics on profile values: any number, date, category string or label is
/// stored as given (a block whose frame a value does not fit is re-encoded wider).
///
/// [`upsert`]: EnterpriseStore::upsert
/// [`remove`]: EnterpriseStore::remove
#[derive(Debug, Clone)]
pub struct EnterpriseStore {
    rows: usize,
    /// One bit per row: set unless removed.
    live: Vec<u64>,
    live_count: usize,
    ids: Ids,
    /// Parallel to [`FIELDS`].
    columns: Vec<Column>,
}

impl Default for EnterpriseStore {
    fn default() -> Self {
        EnterpriseStore::new()
    }
}

impl EnterpriseStore {
    /// An empty store.
    pub fn new() -> EnterpriseStore {
        EnterpriseStore {
            rows: 0,
            live: Vec::new(),
            live_count: 0,
            ids: Ids::default(),
            columns: FIELDS.iter().map(|f| empty_column(f.ty)).collect(),
        }
    }

    /// Builds the store from profiles (owned or borrowed), in batches extracted in parallel.
    /// When an id occurs twice the later profile wins.
    ///
    /// # Errors
    /// [`ReverseError::TooManyRows`] past 4,294,967,294 profiles.
    pub fn build<I>(enterprises: I) -> Result<EnterpriseStore, ReverseError>
    where
        I: IntoIterator,
        I::Item: Borrow<Enterprise> + Sync,
    {
        let mut iter = enterprises.into_iter();
        let mut blocks = Vec::new();
        loop {
            let batch: Vec<I::Item> = iter.by_ref().take(BLOCK_ROWS * BATCH_BLOCKS).collect();
            let full = batch.len() == BLOCK_ROWS * BATCH_BLOCKS;
            blocks.par_extend(
                batch
                    .par_chunks(BLOCK_ROWS)
                    .map(|chunk| RawBlock::extract(chunk.iter().map(Borrow::borrow))),
            );
            if !full {
                break;
            }
        }
        assemble(blocks)
    }

    /// Builds the store from `n` profiles made by `make(i)`, generating and extracting them in
    /// parallel (for large synthetic sets that should not all be in memory as profiles).
    ///
    /// # Errors
    /// [`ReverseError::TooManyRows`] past 4,294,967,294 profiles.
    pub fn build_par<F>(n: usize, make: F) -> Result<EnterpriseStore, ReverseError>
    where
        F: Fn(usize) -> Enterprise + Sync,
    {
        if n > MAX_ROWS {
            return Err(ReverseError::TooManyRows(n));
        }
        let blocks = (0..n.div_ceil(BLOCK_ROWS))
            .into_par_iter()
            .map(|b| {
                let end = ((b + 1) * BLOCK_ROWS).min(n);
                RawBlock::extract((b * BLOCK_ROWS..end).map(&make))
            })
            .collect();
        assemble(blocks)
    }

    /// Number of enterprises (rows not removed).
    pub fn len(&self) -> usize {
        self.live_count
    }

    pub fn is_empty(&self) -> bool {
        self.live_count == 0
    }

    /// Number of rows, removed ones included: rows are `0..rows()`.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The id of the enterprise in `row`; `None` for a removed row or past the end.
    pub fn id(&self, row: usize) -> Option<&str> {
        self.is_live(row).then(|| self.ids.get(row))
    }

    /// The row of enterprise `id`; `None` when absent or removed.
    pub fn row_of(&self, id: &str) -> Option<usize> {
        self.ids.find(id).filter(|&row| self.is_live(row))
    }

    /// Whether `row` holds an enterprise (exists and is not removed).
    pub fn is_live(&self, row: usize) -> bool {
        self.live
            .get(row >> 6)
            .is_some_and(|w| w & (1 << (row & 63)) != 0)
    }

    /// One bit per row: set unless removed.
    pub fn live_words(&self) -> &[u64] {
        &self.live
    }

    /// The column of a registry field.
    pub fn column(&self, field: FieldId) -> &Column {
        &self.columns[field.0 as usize]
    }

    /// The column of a field by its rule-language name.
    pub fn column_by_name(&self, name: &str) -> Option<&Column> {
        crate::fields::lookup(name).map(|f| self.column(f))
    }

    pub(crate) fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Adds a profile, or replaces the one with the same id in place (reviving it if it was
    /// removed). Returns its row. Only the blocks it touches change; a value that does not fit
    /// its block's frame re-encodes that block, and a category string never seen before enters
    /// its column's dictionary.
    ///
    /// # Errors
    /// [`ReverseError::TooManyRows`] when the store already holds 4,294,967,294 rows.
    pub fn upsert(&mut self, e: &Enterprise) -> Result<usize, ReverseError> {
        let row = match self.ids.find(&e.id) {
            Some(row) => row,
            None => {
                if self.rows >= MAX_ROWS {
                    return Err(ReverseError::TooManyRows(self.rows + 1));
                }
                let row = self.rows;
                self.rows += 1;
                self.live.resize(words_for(self.rows), 0);
                for c in &mut self.columns {
                    c.grow(self.rows);
                }
                self.ids.push(&e.id);
                self.ids.insert(&e.id, row);
                row
            }
        };
        for (f, column) in FIELDS.iter().zip(&mut self.columns) {
            set_cell(column, row, cell(f.ty, (f.get)(e)));
        }
        if !self.is_live(row) {
            self.live[row >> 6] |= 1 << (row & 63);
            self.live_count += 1;
        }
        Ok(row)
    }

    /// Removes enterprise `id`; returns whether it was present. Its row is tombstoned and never
    /// matches again.
    pub fn remove(&mut self, id: &str) -> bool {
        match self.row_of(id) {
            Some(row) => {
                self.live[row >> 6] &= !(1 << (row & 63));
                self.live_count -= 1;
                true
            }
            None => false,
        }
    }

    /// Bytes the store holds: its own size plus every heap allocation it owns, counted by
    /// capacity (ids, hash index, bitmaps, packed values, dictionaries).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.live.capacity() * 8
            + self.ids.heap_bytes()
            + self.columns.capacity() * std::mem::size_of::<Column>()
            + self.columns.iter().map(Column::heap_bytes).sum::<usize>()
    }

    /// [`memory_bytes`](Self::memory_bytes) broken down: `("ids", n)`, `("live", n)` and one
    /// entry per field column.
    pub fn memory_breakdown(&self) -> Vec<(&'static str, usize)> {
        let mut out = vec![
            ("ids", self.ids.heap_bytes()),
            ("live", self.live.capacity() * 8),
        ];
        out.extend(
            FIELDS
                .iter()
                .zip(&self.columns)
                .map(|(f, c)| (f.name, c.heap_bytes())),
        );
        out
    }
}

fn empty_column(ty: FieldType) -> Column {
    match ty {
        FieldType::Text => Column::Text,
        FieldType::Bool => Column::Bool(BoolColumn::default()),
        FieldType::Int | FieldType::Money | FieldType::Percent => Column::Int(IntColumn::default()),
        FieldType::Date => Column::Date(IntColumn::default()),
        FieldType::Enum(_) | FieldType::Region | FieldType::Industry => {
            Column::Dict(DictColumn::default())
        }
        FieldType::Set(_) => Column::Set(SetColumn::default()),
    }
}

/// One field of one profile as the store keeps it.
enum Cell<'a> {
    Unknown,
    Bool(bool),
    Int(i64),
    Str(Cow<'a, str>),
    Labels(Vec<&'a str>),
}

/// Converts a registry fact to the column's representation: dates to day numbers, region codes
/// to their prefix form (as the interpreter compares them). A fact of the wrong kind (a registry
/// bug) is unknown.
fn cell(ty: FieldType, fact: Option<Fact<'_>>) -> Cell<'_> {
    use chrono::Datelike;
    match (ty, fact) {
        (_, None) | (FieldType::Text, _) => Cell::Unknown,
        (FieldType::Bool, Some(Fact::Bool(b))) => Cell::Bool(b),
        (FieldType::Int | FieldType::Money | FieldType::Percent, Some(Fact::Num(x))) => {
            Cell::Int(x)
        }
        (FieldType::Date, Some(Fact::Date(d))) => Cell::Int(i64::from(d.num_days_from_ce())),
        (FieldType::Region, Some(Fact::Str(s))) => Cell::Str(match region::prefix_form(s) {
            Some(p) => Cow::Owned(p),
            None => Cow::Borrowed(s),
        }),
        (FieldType::Enum(_) | FieldType::Industry, Some(Fact::Str(s))) => {
            Cell::Str(Cow::Borrowed(s))
        }
        (FieldType::Set(_), Some(Fact::Set(items))) => {
            Cell::Labels(items.iter().map(String::as_str).collect())
        }
        (FieldType::Set(_), Some(Fact::Labels(items))) => Cell::Labels(items),
        _ => Cell::Unknown,
    }
}

fn set_cell(column: &mut Column, row: usize, cell: Cell<'_>) {
    match column {
        Column::Text => {}
        Column::Bool(c) => c.set(
            row,
            if let Cell::Bool(b) = cell {
                Some(b)
            } else {
                None
            },
        ),
        Column::Int(c) | Column::Date(c) => c.set(
            row,
            if let Cell::Int(x) = cell {
                Some(x)
            } else {
                None
            },
        ),
        Column::Dict(c) => match cell {
            Cell::Str(s) => c.set(row, Some(&s)),
            _ => c.set(row, None),
        },
        Column::Set(c) => match cell {
            Cell::Labels(items) => c.set(row, Some(items)),
            _ => c.set(row, None::<[&str; 0]>),
        },
    }
}

/// One block of profiles, extracted before the columns are assembled.
struct RawBlock {
    ids: Vec<String>,
    cols: Vec<RawCol>,
}

enum RawCol {
    Text,
    Bool(BoolColumn),
    Int {
        known: Vec<u64>,
        block: IntBlock,
    },
    Dict {
        known: Vec<u64>,
        /// Codes into `dict` (this block's own, unsorted).
        local: Vec<u32>,
        dict: Vec<String>,
    },
    Set {
        known: Vec<u64>,
        labels: Vec<String>,
        /// (row in block, index into `labels`).
        pairs: Vec<(u16, u32)>,
    },
}

impl RawBlock {
    fn extract<E: Borrow<Enterprise>>(profiles: impl Iterator<Item = E>) -> RawBlock {
        enum Acc {
            Text,
            Bool(BoolColumn),
            Int(Vec<u64>, Vec<i64>),
            Dict(Vec<u64>, Vec<u32>, HashMap<String, u32>),
            Set(Vec<u64>, HashMap<String, u32>, Vec<(u16, u32)>),
        }
        let words = BLOCK_WORDS;
        let mut accs: Vec<Acc> = FIELDS
            .iter()
            .map(|f| match f.ty {
                FieldType::Text => Acc::Text,
                FieldType::Bool => {
                    let mut c = BoolColumn::default();
                    c.grow(BLOCK_ROWS);
                    Acc::Bool(c)
                }
                FieldType::Int | FieldType::Money | FieldType::Percent | FieldType::Date => {
                    Acc::Int(vec![0; words], Vec::new())
                }
                FieldType::Enum(_) | FieldType::Region | FieldType::Industry => {
                    Acc::Dict(vec![0; words], Vec::new(), HashMap::new())
                }
                FieldType::Set(_) => Acc::Set(vec![0; words], HashMap::new(), Vec::new()),
            })
            .collect();
        let mut ids = Vec::with_capacity(BLOCK_ROWS);
        for (row, e) in profiles.enumerate() {
            let e = e.borrow();
            ids.push(e.id.clone());
            let (w, bit) = (row >> 6, 1u64 << (row & 63));
            for (f, acc) in FIELDS.iter().zip(&mut accs) {
                match (acc, cell(f.ty, (f.get)(e))) {
                    (_, Cell::Unknown) | (Acc::Text, _) => {}
                    (Acc::Bool(c), Cell::Bool(b)) => c.set(row, Some(b)),
                    (Acc::Int(known, values), Cell::Int(x)) => {
                        known[w] |= bit;
                        values.push(x);
                    }
                    (Acc::Dict(known, local, index), Cell::Str(s)) => {
                        known[w] |= bit;
                        let next = index.len() as u32;
                        let code = match index.get(s.as_ref()) {
                            Some(&c) => c,
                            None => *index.entry(s.into_owned()).or_insert(next),
                        };
                        local.push(code);
                    }
                    (Acc::Set(known, index, pairs), Cell::Labels(items)) => {
                        known[w] |= bit;
                        for item in items {
                            let next = index.len() as u32;
                            let code = match index.get(item) {
                                Some(&c) => c,
                                None => *index.entry(item.to_string()).or_insert(next),
                            };
                            pairs.push((row as u16, code));
                        }
                    }
                    _ => {}
                }
            }
        }
        let used = words_for(ids.len());
        let cols = accs
            .into_iter()
            .map(|acc| match acc {
                Acc::Text => RawCol::Text,
                Acc::Bool(mut c) => {
                    c.known.truncate(used);
                    c.value.truncate(used);
                    RawCol::Bool(c)
                }
                Acc::Int(mut known, values) => {
                    known.truncate(used);
                    RawCol::Int {
                        known,
                        block: IntBlock::encode(&values),
                    }
                }
                Acc::Dict(mut known, local, index) => {
                    known.truncate(used);
                    RawCol::Dict {
                        known,
                        local,
                        dict: by_code(index),
                    }
                }
                Acc::Set(mut known, index, pairs) => {
                    known.truncate(used);
                    RawCol::Set {
                        known,
                        labels: by_code(index),
                        pairs,
                    }
                }
            })
            .collect();
        RawBlock { ids, cols }
    }
}

/// The keys of a string → code map, indexed by code.
fn by_code(index: HashMap<String, u32>) -> Vec<String> {
    let mut v: Vec<(String, u32)> = index.into_iter().collect();
    v.sort_by_key(|(_, c)| *c);
    v.into_iter().map(|(s, _)| s).collect()
}

/// Sorted, deduplicated union of the blocks' dictionaries.
fn merged<'a>(dicts: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = dicts.flatten().cloned().collect();
    all.sort_unstable();
    all.dedup();
    all.shrink_to_fit();
    all
}

fn assemble(blocks: Vec<RawBlock>) -> Result<EnterpriseStore, ReverseError> {
    let rows: usize = blocks.iter().map(|b| b.ids.len()).sum();
    if rows > MAX_ROWS {
        return Err(ReverseError::TooManyRows(rows));
    }
    let mut id_blocks = Vec::with_capacity(blocks.len());
    let mut per_field: Vec<Vec<RawCol>> = FIELDS
        .iter()
        .map(|_| Vec::with_capacity(blocks.len()))
        .collect();
    for block in blocks {
        id_blocks.push(block.ids);
        for (field, col) in per_field.iter_mut().zip(block.cols) {
            field.push(col);
        }
    }
    let columns: Vec<Column> = per_field
        .into_par_iter()
        .zip(FIELDS.par_iter())
        .map(|(raws, f)| assemble_column(f.ty, raws, rows))
        .collect();

    let mut ids = Ids::with_capacity(rows, id_blocks.iter().flatten().map(String::len).sum());
    let mut live = vec![!0u64; words_for(rows)];
    if !rows.is_multiple_of(64) {
        live[rows / 64] = (1u64 << (rows % 64)) - 1;
    }
    let mut live_count = rows;
    for (row, id) in id_blocks.iter().flatten().enumerate() {
        ids.push(id);
        if let Some(earlier) = ids.insert(id, row) {
            live[earlier >> 6] &= !(1 << (earlier & 63));
            live_count -= 1;
        }
    }
    Ok(EnterpriseStore {
        rows,
        live,
        live_count,
        ids,
        columns,
    })
}

fn concat(parts: impl Iterator<Item = Vec<u64>>, words: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(words);
    for p in parts {
        out.extend(p);
    }
    out
}

fn assemble_column(ty: FieldType, raws: Vec<RawCol>, rows: usize) -> Column {
    let words = words_for(rows);
    let Some(first) = raws.first() else {
        return empty_column(ty);
    };
    match first {
        RawCol::Text => Column::Text,
        RawCol::Bool(_) => {
            let mut known = Vec::with_capacity(words);
            let mut value = Vec::with_capacity(words);
            for raw in raws {
                if let RawCol::Bool(c) = raw {
                    known.extend(c.known);
                    value.extend(c.value);
                }
            }
            Column::Bool(BoolColumn { known, value })
        }
        RawCol::Int { .. } => {
            let mut known_parts = Vec::with_capacity(raws.len());
            let mut blocks = Vec::with_capacity(raws.len());
            for raw in raws {
                if let RawCol::Int { known, block } = raw {
                    known_parts.push(known);
                    blocks.push(block);
                }
            }
            let column = IntColumn::from_parts(concat(known_parts.into_iter(), words), blocks);
            if ty == FieldType::Date {
                Column::Date(column)
            } else {
                Column::Int(column)
            }
        }
        RawCol::Dict { .. } => {
            let dict = merged(raws.iter().filter_map(|r| match r {
                RawCol::Dict { dict, .. } => Some(dict),
                _ => None,
            }));
            let encoded: Vec<(Vec<u64>, IntBlock)> = raws
                .into_par_iter()
                .filter_map(|raw| match raw {
                    RawCol::Dict {
                        known,
                        local,
                        dict: local_dict,
                    } => {
                        let global: Vec<i64> = local_dict
                            .iter()
                            .map(|s| dict.binary_search(s).unwrap_or(0) as i64)
                            .collect();
                        let codes: Vec<i64> = local.iter().map(|&c| global[c as usize]).collect();
                        Some((known, IntBlock::encode(&codes)))
                    }
                    _ => None,
                })
                .collect();
            let (known_parts, blocks): (Vec<_>, Vec<_>) = encoded.into_iter().unzip();
            Column::Dict(DictColumn {
                dict,
                codes: IntColumn::from_parts(concat(known_parts.into_iter(), words), blocks),
            })
        }
        RawCol::Set { .. } => {
            let labels = merged(raws.iter().filter_map(|r| match r {
                RawCol::Set { labels, .. } => Some(labels),
                _ => None,
            }));
            // Global (row, label) pairs, grouped by label.
            let mut per_label: Vec<Vec<u32>> = vec![Vec::new(); labels.len()];
            let mut known_parts = Vec::with_capacity(raws.len());
            for (b, raw) in raws.into_iter().enumerate() {
                if let RawCol::Set {
                    known,
                    labels: local,
                    pairs,
                } = raw
                {
                    let global: Vec<usize> = local
                        .iter()
                        .map(|s| labels.binary_search(s).unwrap_or(0))
                        .collect();
                    for (r, l) in pairs {
                        per_label[global[l as usize]].push((b * BLOCK_ROWS + r as usize) as u32);
                    }
                    known_parts.push(known);
                }
            }
            let label_rows = per_label
                .into_iter()
                .map(|mut rs| {
                    rs.dedup();
                    if LabelRows::prefers_dense(rs.len(), rows) {
                        let mut w = vec![0u64; words];
                        for r in rs {
                            w[r as usize >> 6] |= 1 << (r & 63);
                        }
                        LabelRows::Dense(w)
                    } else {
                        rs.shrink_to_fit();
                        LabelRows::Sparse(rs)
                    }
                })
                .collect();
            Column::Set(SetColumn {
                known: concat(known_parts.into_iter(), words),
                labels,
                rows: label_rows,
                nrows: rows,
            })
        }
    }
}

/// Enterprise ids in one text arena, with an open-addressing hash index from id to row.
#[derive(Debug, Clone, Default)]
struct Ids {
    text: String,
    ends: Ends,
    /// Rows by hash of their id (linear probing); `EMPTY` when free.
    slots: Vec<u32>,
    entries: usize,
}

/// End offsets of the ids in the arena; widened to u64 past 4 GiB of ids.
#[derive(Debug, Clone)]
enum Ends {
    U32(Vec<u32>),
    U64(Vec<u64>),
}

impl Default for Ends {
    fn default() -> Self {
        Ends::U32(Vec::new())
    }
}

impl Ends {
    fn get(&self, i: usize) -> usize {
        match self {
            Ends::U32(v) => v[i] as usize,
            Ends::U64(v) => v[i] as usize,
        }
    }
}

fn hash(s: &str) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64 ^ s.len() as u64;
    for chunk in s.as_bytes().chunks(8) {
        let mut buf = [0u8; 8];
        buf[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(buf))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
    // SplitMix64 finaliser.
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

impl Ids {
    fn with_capacity(rows: usize, bytes: usize) -> Ids {
        let mut ids = Ids {
            text: String::with_capacity(bytes),
            ends: if bytes <= u32::MAX as usize {
                Ends::U32(Vec::with_capacity(rows))
            } else {
                Ends::U64(Vec::with_capacity(rows))
            },
            slots: Vec::new(),
            entries: 0,
        };
        ids.rehash(rows);
        ids
    }

    fn get(&self, row: usize) -> &str {
        let start = if row == 0 { 0 } else { self.ends.get(row - 1) };
        &self.text[start..self.ends.get(row)]
    }

    /// Appends the id of a new row.
    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        let end = self.text.len();
        if let Ends::U32(v) = &mut self.ends
            && end > u32::MAX as usize
        {
            self.ends = Ends::U64(v.iter().map(|&e| u64::from(e)).collect());
        }
        match &mut self.ends {
            Ends::U32(v) => v.push(end as u32),
            Ends::U64(v) => v.push(end as u64),
        }
    }

    fn slot(&self, id: &str) -> usize {
        ((u128::from(hash(id)) * self.slots.len() as u128) >> 64) as usize
    }

    fn find(&self, id: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = self.slot(id);
        loop {
            let row = self.slots[i];
            if row == EMPTY {
                return None;
            }
            if self.get(row as usize) == id {
                return Some(row as usize);
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    /// Points `id` at `row`; returns the row it pointed at before, if any.
    fn insert(&mut self, id: &str, row: usize) -> Option<usize> {
        if (self.entries + 1) * 20 > self.slots.len() * 17 {
            self.rehash(self.entries + 1);
        }
        let mut i = self.slot(id);
        loop {
            let current = self.slots[i];
            if current == EMPTY {
                self.slots[i] = row as u32;
                self.entries += 1;
                return None;
            }
            if self.get(current as usize) == id {
                self.slots[i] = row as u32;
                return Some(current as usize);
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    /// Resizes the index for `entries` ids at a load of 0.7.
    fn rehash(&mut self, entries: usize) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![EMPTY; (entries * 10 / 7).max(16)];
        for row in old.into_iter().filter(|&r| r != EMPTY) {
            let mut i = self.slot(self.get(row as usize));
            while self.slots[i] != EMPTY {
                i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
            }
            self.slots[i] = row;
        }
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + match &self.ends {
                Ends::U32(v) => v.capacity() * 4,
                Ends::U64(v) => v.capacity() * 8,
            }
            + self.slots.capacity() * 4
    }
}
