//! The vector index: embeddings of products and policies, searched by cosine similarity.
//!
//! [`VectorIndex`] is an HNSW graph (hnsw_rs, cosine distance) plus an id table. The graph gives
//! approximate nearest neighbours while visiting a fraction of the points; [`brute_force`] is
//! the exact, slow reference it is tested against.
//!
//! ## Changes without a rebuild
//! hnsw_rs can add points but never remove them. [`VectorIndex::upsert`] inserts a new point
//! and retires the id's old one; [`VectorIndex::retire`] only marks a point as a tombstone.
//! [`VectorIndex::search`] asks the graph for `k` plus the number of tombstones and drops the
//! retired points, so `k` live results come back whenever the index holds that many. When the
//! tombstones outnumber the live points the graph is rebuilt from the live ones, which bounds
//! that over-fetch to twice the live size.
//!
//! ## Persistence: the graph itself, checked before hnsw_rs reads it
//! [`VectorIndex::save`] writes the graph with hnsw_rs's own dump and [`VectorIndex::load`]
//! reloads it with hnsw_rs's loader, so loading costs about as much as reading the files: no
//! point is inserted again, and a loaded index answers exactly as the saved one did (same graph,
//! same tombstones). A one-record change (`pipeline::apply`) thus costs one load, one insertion
//! and one save, not a rebuild. The files of a saved folder:
//!
//! - `graph.hnsw.graph`, `graph.hnsw.data`: hnsw_rs's dump (`file_dump`) of every point in the
//!   graph, retired ones included: its links, and its vector. These vectors are the only copy
//!   the index keeps; exact fallbacks and compaction read them from the graph's points. The
//!   two files are absent when the graph has no point (hnsw_rs cannot dump an empty graph);
//! - `ids.json`: the id of every point, a JSON array indexed by the point's hnsw data id;
//! - `tombstones.json`: the data ids of the retired points, ascending;
//! - `header.json`, written last: format name, [`FORMAT_VERSION`], the byte order and `usize`
//!   width of the machine that wrote the dump (hnsw_rs writes native-endian numbers and
//!   `usize`s), dimension, point and live counts, and the size and SHA-256 of each other file.
//!
//! hnsw_rs's reader trusts its input: it `assert!`s on a bad magic number and can even exit
//! the process on a short vector. So `load` refuses another format version, byte order or
//! `usize` width, checks the size and checksum of every file and reads the dump's own
//! description (point count, dimension, distance, element type) *before* it hands the folder to
//! hnsw_rs: a truncated, damaged or foreign file is an [`Error::Snapshot`], never a panic.
//! hnsw_rs then opens the two dump files again by name; snapshot folders are never modified
//! once written, so what it reads is what was checked.
//!
//! `save` never writes through an existing file: it first unlinks any file of its own names in
//! the folder, so a folder that shares files with another snapshot by hard link cannot change
//! that snapshot. Callers save into a fresh folder anyway.
//!
//! Format version 1 (raw vectors only, the graph rebuilt at every load: 15 s for 12,000
//! vectors of dimension 384, 80 s for random ones) is refused with an error asking for a
//! rebuild of the snapshot (`huiqi index build`), rather than read by a second, slow loader
//! kept for it. A snapshot changed with `pipeline::apply` needs that rebuild too, since a change
//! starts from loading the live snapshot's vectors.
//!
//! ### One small leak per load
//! hnsw_rs ties a reloaded `Hnsw<'b, ..>` to its loader (`HnswIo::load_hnsw_with_dist<'b, 'a>(&'a
//! self)` with `'a: 'b`) because, when asked to memory-map the vectors, the points borrow the
//! loader's map. We read the vectors into memory instead, so in fact nothing borrows the loader,
//! but the types say it does, and safe Rust cannot shorten the graph's lifetime away. To own
//! the graph, `load` leaks its `HnswIo` (`Box::leak`): a 256-byte struct (64-bit Linux), the
//! folder's path, the 5-byte base name and a 24-byte `Arc` counter, about 300 bytes plus the
//! path per load, never reclaimed before the process exits. The leak does not grow with the
//! index. A server that reopens its snapshot at every published change leaks under half a
//! megabyte per thousand changes.
//!
//! ### Costs
//! Measured for 12,000 vectors of dimension 384 on two busy shared cores, for lexical
//! embeddings of enterprise names and business scopes / uniformly random unit vectors. Building
//! the graph: 14 s / 75 s, in a debug build (dependencies at `opt-level = 1`) as in release,
//! since the time goes to hnsw_rs's distance loop. Saving: 0.1–0.3 s. Loading: 0.15–0.4 s,
//! where rebuilding the graph at load took 13–15 s / 80–86 s. Load, one upsert and a save into
//! a new folder: under 0.7 s. The folder takes 24 MB / 31 MB: 18.7 MB of vectors, 5 MB / 12 MB
//! of links (random vectors have no neighbourhood structure, so their links spread further).
//!
//! ## Recall
//! Checked against [`brute_force`] by a property test: recall@10 ≥ 0.95 on 3,000 uniformly
//! random unit vectors of dimension 64–384 (observed 0.986–1.0). On text embeddings, which
//! cluster (the lexical embedder on synthetic enterprise names and business scopes), recall@10
//! was 0.998 at 12,000 vectors of dimension 384; on uniformly random vectors it falls to about
//! 0.8 at that size.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use hnsw_rs::api::AnnT;
use hnsw_rs::hnswio::{HnswIo, load_description};
use hnsw_rs::prelude::{DistCosine, Hnsw};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Version of the on-disk layout written by [`VectorIndex::save`]; `load` refuses others.
/// Version 1 kept raw vectors only; version 2 keeps hnsw_rs's dump of the graph.
pub const FORMAT_VERSION: u32 = 2;
const FORMAT_NAME: &str = "huiqi-vectors";
const HEADER_FILE: &str = "header.json";
const IDS_FILE: &str = "ids.json";
const TOMBSTONES_FILE: &str = "tombstones.json";
/// hnsw_rs names its two dump files after a base name.
const DUMP_BASENAME: &str = "graph";
const GRAPH_FILE: &str = "graph.hnsw.graph";
const DATA_FILE: &str = "graph.hnsw.data";
/// The dump layout of hnsw_rs 0.3 (its `MAGICDESCR_4`), in full mode (point ids with layer and
/// rank, the only mode its loader reads).
const DUMP_LAYOUT: usize = 4;
const DUMP_MODE_FULL: u8 = 1;

/// Neighbours kept per point and layer (twice as many in the bottom layer). 16–32 is the usual
/// range for embeddings of a few hundred dimensions; 24 sits in the middle: on 3,000 random
/// vectors of dimension 384, 16, 24 and 32 all gave recall@10 ≈ 0.99 at the same build time, and
/// more links make the graph more forgiving of clustered real data and of parallel insertion.
const MAX_NB_CONNECTION: usize = 24;
/// Candidates examined while linking a new point. 200 is the customary value: graph quality
/// (and so recall) stops improving noticeably beyond it, and build time grows with it.
const EF_CONSTRUCTION: usize = 200;
/// Upper bound on the number of layers; hnsw_rs caps it at 16 (and dumps only graphs of 16) and
/// a catalog never needs more.
const MAX_LAYER: usize = 16;
/// Smallest candidate list at search time; it grows to the number of results asked for (k plus
/// tombstones) when that is larger. On 3,000 random vectors of dimension 384, 128 gave
/// recall@10 ≈ 0.99 where 64 gave 0.88–0.91; the price is milliseconds per query.
const EF_SEARCH: usize = 128;
/// The graph is rebuilt when tombstones outnumber live points and there are at least this many.
const COMPACT_MIN_RETIRED: usize = 64;

type Graph = Hnsw<'static, f32, DistCosine>;

/// Approximate nearest-neighbour index over named vectors, by cosine similarity.
///
/// Invariants: every vector has [`dim`](Self::dim) finite components and is not all zeros; an
/// id names at most one live vector; the graph's points are numbered `0..ids.len()`.
pub struct VectorIndex {
    dim: usize,
    graph: Graph,
    /// The id of each point inserted into the graph, by its hnsw data id.
    ids: Vec<String>,
    /// Whether each point is live (false: retired or replaced by a later upsert).
    alive: Vec<bool>,
    /// The point of each live id.
    live: HashMap<String, usize>,
}

impl fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VectorIndex")
            .field("dim", &self.dim)
            .field("live", &self.live.len())
            .field("retired", &self.retired())
            .finish_non_exhaustive()
    }
}

impl VectorIndex {
    /// Builds the index, inserting the vectors in parallel.
    ///
    /// Errors with [`Error::Vectors`] naming the id when a vector's length is not `dim`, when it
    /// has a non-finite component or is all zeros (it has no direction), or when an id occurs
    /// twice; nothing is built then.
    pub fn build(dim: usize, items: Vec<(String, Vec<f32>)>) -> Result<VectorIndex> {
        if dim == 0 {
            return Err(Error::Vectors("the dimension must be at least 1".into()));
        }
        let mut live = HashMap::with_capacity(items.len());
        for (slot, (id, vector)) in items.iter().enumerate() {
            check_vector(dim, id, vector)?;
            if live.insert(id.clone(), slot).is_some() {
                return Err(Error::Vectors(format!("the id {id:?} occurs twice")));
            }
        }
        let graph = new_graph(items.len());
        let batch: Vec<(&Vec<f32>, usize)> = items
            .iter()
            .enumerate()
            .map(|(slot, (_, v))| (v, slot))
            .collect();
        graph.parallel_insert(&batch);
        drop(batch);
        let alive = vec![true; items.len()];
        let ids = items.into_iter().map(|(id, _)| id).collect();
        Ok(VectorIndex {
            dim,
            graph,
            ids,
            alive,
            live,
        })
    }

    /// Length of every vector in the index.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of live entries (retired ones do not count).
    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Whether `id` has a live vector.
    pub fn contains(&self, id: &str) -> bool {
        self.live.contains_key(id)
    }

    /// The ids and cosine similarities (1 − cosine distance) of the `k` live entries nearest to
    /// `query`, best first; ties in order of id. Asking for more than [`len`](Self::len) returns
    /// every live entry. A query whose length is not [`dim`](Self::dim), that has a non-finite
    /// component or is all zeros has no nearest entries: the result is empty.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<(String, f32)> {
        if k == 0 || self.live.is_empty() || check_vector(self.dim, "query", query).is_err() {
            return Vec::new();
        }
        let total = self.ids.len();
        let want = k.min(self.live.len());
        // Every tombstone may rank above a live point, so ask for that many more.
        let mut fetch = k.saturating_add(self.retired()).min(total);
        loop {
            let ef = EF_SEARCH.max(fetch);
            let hits: Vec<(usize, f32)> = self
                .graph
                .search(query, fetch, ef)
                .into_iter()
                .filter(|n| self.alive[n.d_id])
                .map(|n| (n.d_id, 1.0 - n.distance))
                .collect();
            if hits.len() >= want {
                return self.ranked(hits, k);
            }
            if fetch == total {
                // The graph search came back short even when asked for everything (possible on
                // tiny or oddly shaped graphs): answer exactly.
                return self.exhaustive(query, k);
            }
            fetch = fetch.saturating_mul(2).min(total);
        }
    }

    /// Adds `vector` for `id` as a new point; a previous vector of `id` is retired.
    ///
    /// Errors with [`Error::Vectors`] naming the id when the vector's length is not
    /// [`dim`](Self::dim), it has a non-finite component or is all zeros; the index is unchanged.
    pub fn upsert(&mut self, id: String, vector: Vec<f32>) -> Result<()> {
        check_vector(self.dim, &id, &vector)?;
        let slot = self.ids.len();
        self.graph.insert((vector.as_slice(), slot));
        self.ids.push(id.clone());
        self.alive.push(true);
        if let Some(old) = self.live.insert(id, slot) {
            self.alive[old] = false;
            self.compact_if_sparse();
        }
        Ok(())
    }

    /// Retires the vector of `id`: it no longer appears in results. False when `id` had none.
    pub fn retire(&mut self, id: &str) -> bool {
        match self.live.remove(id) {
            Some(slot) => {
                self.alive[slot] = false;
                self.compact_if_sparse();
                true
            }
            None => false,
        }
    }

    /// Writes the index into `dir`, which must exist and should be a fresh folder: the graph's
    /// dump, `ids.json`, `tombstones.json` and, last, `header.json`; see the
    /// [module documentation](self). Files of those names already in `dir` are unlinked first,
    /// never written through.
    ///
    /// Errors with [`Error::Io`] when a file cannot be removed, created or written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        for name in [
            HEADER_FILE,
            IDS_FILE,
            TOMBSTONES_FILE,
            GRAPH_FILE,
            DATA_FILE,
        ] {
            remove_if_present(&dir.join(name))?;
        }
        let mut files = BTreeMap::new();
        if !self.ids.is_empty() {
            self.dump_graph(dir)?;
            for name in [GRAPH_FILE, DATA_FILE] {
                // Hash what is on disk, as `load` will.
                files.insert(name.to_string(), FileSum::of(&read(&dir.join(name))?));
            }
        }
        let ids = serde_json::to_vec(&self.ids).expect("a list of strings serializes");
        let tombstones: Vec<usize> = (0..self.ids.len()).filter(|s| !self.alive[*s]).collect();
        let tombstones = serde_json::to_vec(&tombstones).expect("a list of numbers serializes");
        files.insert(IDS_FILE.to_string(), FileSum::of(&ids));
        files.insert(TOMBSTONES_FILE.to_string(), FileSum::of(&tombstones));
        write(&dir.join(IDS_FILE), &ids)?;
        write(&dir.join(TOMBSTONES_FILE), &tombstones)?;
        let header = Header {
            format: FORMAT_NAME.to_string(),
            version: FORMAT_VERSION,
            byte_order: native_byte_order().to_string(),
            usize_bytes: size_of::<usize>(),
            metric: "cosine".to_string(),
            dim: self.dim,
            points: self.ids.len(),
            live: self.live.len(),
            files,
        };
        let header = serde_json::to_vec_pretty(&header).expect("the header serializes");
        write(&dir.join(HEADER_FILE), &header)
    }

    /// Reads an index written by [`save`](Self::save), reloading its graph as it was saved (no
    /// rebuild). Leaks a few hundred bytes; see the [module documentation](self).
    ///
    /// Errors with [`Error::Io`] when a file cannot be read, and with [`Error::Snapshot`] naming
    /// the file when one is truncated, damaged (checksum), inconsistent, of another format
    /// version (version 1 included: rebuild the snapshot) or written on a machine of another
    /// byte order or `usize` width.
    pub fn load(dir: &Path) -> Result<VectorIndex> {
        let header_path = dir.join(HEADER_FILE);
        let header = Header::parse(&header_path, &read(&header_path)?)?;

        let ids_path = dir.join(IDS_FILE);
        let ids: Vec<String> = serde_json::from_slice(&read_checked(dir, &header, IDS_FILE)?)
            .map_err(|e| bad(&ids_path, format!("unreadable ids: {e}")))?;
        if ids.len() != header.points {
            return Err(bad(
                &ids_path,
                format!("{} ids where the header says {}", ids.len(), header.points),
            ));
        }
        let tombstones_path = dir.join(TOMBSTONES_FILE);
        let tombstones: Vec<usize> =
            serde_json::from_slice(&read_checked(dir, &header, TOMBSTONES_FILE)?)
                .map_err(|e| bad(&tombstones_path, format!("unreadable tombstones: {e}")))?;
        let mut alive = vec![true; header.points];
        for (i, &slot) in tombstones.iter().enumerate() {
            if slot >= header.points || (i > 0 && tombstones[i - 1] >= slot) {
                return Err(bad(
                    &tombstones_path,
                    format!(
                        "tombstone {slot} is out of order or not below {}",
                        header.points
                    ),
                ));
            }
            alive[slot] = false;
        }
        let mut live = HashMap::with_capacity(header.live);
        for (slot, id) in ids.iter().enumerate().filter(|(slot, _)| alive[*slot]) {
            if live.insert(id.clone(), slot).is_some() {
                return Err(bad(&ids_path, format!("the id {id:?} is live twice")));
            }
        }
        if live.len() != header.live {
            return Err(bad(
                &header_path,
                format!(
                    "{} live ids where the header says {}",
                    live.len(),
                    header.live
                ),
            ));
        }

        let graph = if header.points == 0 {
            new_graph(0)
        } else {
            load_graph(dir, &header)?
        };
        Ok(VectorIndex {
            dim: header.dim,
            graph,
            ids,
            alive,
            live,
        })
    }

    /// Dumps the graph (which has at least one point) into `dir`'s `graph.hnsw.*` files.
    fn dump_graph(&self, dir: &Path) -> Result<()> {
        // hnsw_rs panics when it cannot open its files: create them first, so that a folder
        // that cannot take them is an I/O error. It then opens them again and truncates them.
        for name in [GRAPH_FILE, DATA_FILE] {
            let path = dir.join(name);
            fs::File::create_new(&path).map_err(Error::io(&path))?;
        }
        let dumped = self
            .graph
            .file_dump(dir, DUMP_BASENAME)
            .map_err(|e| Error::Io {
                path: dir.join(GRAPH_FILE),
                source: io::Error::other(format!("hnsw_rs could not dump the graph: {e:#}")),
            })?;
        if dumped != DUMP_BASENAME {
            // hnsw_rs renames its dump only for a graph that memory-maps its vectors; ours never do.
            return Err(Error::Vectors(format!(
                "hnsw_rs dumped the graph as {dumped:?} instead of {DUMP_BASENAME:?}"
            )));
        }
        Ok(())
    }

    /// Points in the graph that are no longer live.
    fn retired(&self) -> usize {
        self.ids.len() - self.live.len()
    }

    /// Sorts hits best first (ties by id), keeps `k` and names them.
    fn ranked(&self, mut hits: Vec<(usize, f32)>, k: usize) -> Vec<(String, f32)> {
        hits.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| self.ids[a.0].cmp(&self.ids[b.0]))
        });
        hits.truncate(k);
        hits.into_iter()
            .map(|(slot, sim)| (self.ids[slot].clone(), sim))
            .collect()
    }

    /// Exact search over every live point.
    fn exhaustive(&self, query: &[f32], k: usize) -> Vec<(String, f32)> {
        let hits = self
            .live_points()
            .into_iter()
            .map(|(slot, v)| (slot, cosine_similarity(query, &v)))
            .collect();
        self.ranked(hits, k)
    }

    /// The live points and their vectors, in insertion order.
    fn live_points(&self) -> Vec<(usize, Vec<f32>)> {
        if self.graph.get_nb_point() == 0 {
            // hnsw_rs's point iterator assumes an entry point exists.
            return Vec::new();
        }
        let mut points: Vec<(usize, Vec<f32>)> = self
            .graph
            .get_point_indexation()
            .into_iter()
            .filter(|p| self.alive[p.get_origin_id()])
            .map(|p| (p.get_origin_id(), p.get_v().to_vec()))
            .collect();
        points.sort_unstable_by_key(|(slot, _)| *slot);
        points
    }

    /// Rebuilds the graph from the live points once tombstones outnumber them, so that the
    /// over-fetch of [`search`](Self::search) stays bounded.
    fn compact_if_sparse(&mut self) {
        let retired = self.retired();
        if retired < COMPACT_MIN_RETIRED || retired <= self.live.len() {
            return;
        }
        let items = self
            .live_points()
            .into_iter()
            .map(|(slot, v)| (std::mem::take(&mut self.ids[slot]), v))
            .collect();
        *self =
            VectorIndex::build(self.dim, items).expect("live vectors were checked when inserted");
    }
}

/// Reloads the graph dumped in `dir` once its files have passed every check hnsw_rs's reader
/// does not make.
fn load_graph(dir: &Path, header: &Header) -> Result<Graph> {
    let graph_path = dir.join(GRAPH_FILE);
    let data_path = dir.join(DATA_FILE);
    let graph_bytes = read_checked(dir, header, GRAPH_FILE)?;
    let data_bytes = read_checked(dir, header, DATA_FILE)?.len();

    let description = load_description(&mut graph_bytes.as_slice())
        .map_err(|e| bad(&graph_path, format!("unreadable hnsw_rs description: {e}")))?;
    drop(graph_bytes);
    let expected = [
        ("layout", description.format_version, DUMP_LAYOUT),
        ("mode", description.dumpmode.into(), DUMP_MODE_FULL.into()),
        ("points", description.nb_point, header.points),
        ("dimension", description.dimension, header.dim),
        ("layers", description.nb_layer.into(), MAX_LAYER),
    ];
    for (what, found, wanted) in expected {
        if found != wanted {
            return Err(bad(
                &graph_path,
                format!("the dump's {what} is {found} where {wanted} is expected"),
            ));
        }
    }
    let distance = std::any::type_name::<DistCosine>();
    let element = std::any::type_name::<f32>();
    if description.distname != distance || description.t_name != element {
        return Err(bad(
            &graph_path,
            format!(
                "a dump of {} by {} where {element} by {distance} is expected",
                description.t_name, description.distname
            ),
        ));
    }
    // The data file: a magic number and the dimension, then per point a magic number, its
    // data id (u64), the vector's byte length (u64) and the vector.
    let expected_data = header
        .points
        .checked_mul(4 + 8 + 8 + 4 * header.dim)
        .and_then(|n| n.checked_add(4 + size_of::<usize>()));
    if expected_data != Some(data_bytes) {
        return Err(bad(
            &data_path,
            format!(
                "{data_bytes} bytes where {} vectors of dimension {} take more or less",
                header.points, header.dim
            ),
        ));
    }

    // The loader must outlive the graph as far as the types go: leak it (see the module docs).
    let loader: &'static HnswIo = Box::leak(Box::new(HnswIo::new(dir, DUMP_BASENAME)));
    let mut graph: Graph = loader.load_hnsw_with_dist(DistCosine).map_err(|e| {
        bad(
            &graph_path,
            format!("hnsw_rs could not reload the graph: {e:#}"),
        )
    })?;
    // hnsw_rs's loader turns candidate extension on; new graphs have it off. Keep insertions
    // after a load the same as before the save.
    graph.set_extend_candidates(false);

    if graph.get_nb_point() != header.points {
        return Err(bad(
            &graph_path,
            format!(
                "{} points reloaded where the header says {}",
                graph.get_nb_point(),
                header.points
            ),
        ));
    }
    let mut seen = vec![false; header.points];
    for point in graph.get_point_indexation() {
        let slot = point.get_origin_id();
        if slot >= header.points || std::mem::replace(&mut seen[slot], true) {
            return Err(bad(
                &graph_path,
                format!("point number {slot} is out of range or occurs twice"),
            ));
        }
    }
    Ok(graph)
}

/// The exact top `k` of `items` by cosine similarity to `query`, best first, ties in order of
/// id: the slow reference [`VectorIndex::search`] is checked against. Items whose length
/// differs from the query's are skipped; a zero-length (all zeros) item has similarity 0; a
/// query that is all zeros or has a non-finite component gives no results.
pub fn brute_force(items: &[(String, Vec<f32>)], query: &[f32], k: usize) -> Vec<(String, f32)> {
    if check_vector(query.len(), "query", query).is_err() {
        return Vec::new();
    }
    let mut hits: Vec<(&str, f32)> = items
        .iter()
        .filter(|(_, v)| v.len() == query.len())
        .map(|(id, v)| (id.as_str(), cosine_similarity(query, v)))
        .collect();
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    hits.truncate(k);
    hits.into_iter()
        .map(|(id, sim)| (id.to_string(), sim))
        .collect()
}

/// Cosine similarity computed as hnsw_rs's `DistCosine` does (f64 sums, 1 − distance clamped
/// to at most 1), so that the index's scores and [`brute_force`]'s agree to rounding.
fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += f64::from(x * y);
        aa += f64::from(x * x);
        bb += f64::from(y * y);
    }
    if aa > 0.0 && bb > 0.0 {
        let distance = (1.0 - dot / (aa * bb).sqrt()).max(0.0) as f32;
        1.0 - distance
    } else {
        0.0
    }
}

fn new_graph(expected: usize) -> Graph {
    Hnsw::new(
        MAX_NB_CONNECTION,
        expected.max(1),
        MAX_LAYER,
        EF_CONSTRUCTION,
        DistCosine,
    )
}

/// A vector the graph can take: `dim` finite components, not all zero (hnsw_rs's cosine
/// `assert!`s on NaN and calls a zero vector identical to everything).
fn check_vector(dim: usize, id: &str, v: &[f32]) -> Result<()> {
    if v.len() != dim {
        return Err(Error::Vectors(format!(
            "the vector of {id:?} has {} components; the index has dimension {dim}",
            v.len()
        )));
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::Vectors(format!(
            "the vector of {id:?} has a non-finite component at {i}"
        )));
    }
    if v.iter().all(|x| *x == 0.0) {
        return Err(Error::Vectors(format!(
            "the vector of {id:?} is all zeros and has no direction"
        )));
    }
    Ok(())
}

/// `header.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    /// `little` or `big`: hnsw_rs writes its dump in the writer's native byte order.
    byte_order: String,
    /// Width of `usize` in bytes: hnsw_rs writes counts and data ids as native `usize`s.
    usize_bytes: usize,
    metric: String,
    dim: usize,
    /// Points in the graph, live and retired.
    points: usize,
    live: usize,
    /// Size and checksum of every other file of the folder, by name.
    files: BTreeMap<String, FileSum>,
}

/// The fields every version of the header has: read first, so that another version is
/// refused as such rather than as an unreadable header.
#[derive(Deserialize)]
struct Version {
    format: String,
    version: u32,
}

impl Header {
    fn parse(path: &Path, bytes: &[u8]) -> Result<Header> {
        let unreadable = |e: serde_json::Error| bad(path, format!("unreadable header: {e}"));
        let Version { format, version } = serde_json::from_slice(bytes).map_err(unreadable)?;
        if format != FORMAT_NAME || version != FORMAT_VERSION {
            let hint = if format == FORMAT_NAME && version < FORMAT_VERSION {
                " (version 2 added the saved graph): rebuild the snapshot with `huiqi index build`"
            } else {
                ""
            };
            return Err(bad(
                path,
                format!(
                    "vector index format {format} version {version}; this build reads version \
                     {FORMAT_VERSION} only{hint}"
                ),
            ));
        }
        let header: Header = serde_json::from_slice(bytes).map_err(unreadable)?;
        if header.byte_order != native_byte_order() || header.usize_bytes != size_of::<usize>() {
            return Err(bad(
                path,
                format!(
                    "the graph was dumped on a {}-endian machine with {}-byte usize; this one is \
                     {}-endian with {}-byte usize, and hnsw_rs's dump is not portable: rebuild \
                     the snapshot here",
                    header.byte_order,
                    header.usize_bytes,
                    native_byte_order(),
                    size_of::<usize>()
                ),
            ));
        }
        if header.metric != "cosine" || header.dim == 0 || header.live > header.points {
            return Err(bad(
                path,
                format!(
                    "metric {:?}, dimension {}, {} live of {} points",
                    header.metric, header.dim, header.live, header.points
                ),
            ));
        }
        Ok(header)
    }
}

/// Size and SHA-256 of a file.
#[derive(Debug, Serialize, Deserialize)]
struct FileSum {
    bytes: u64,
    sha256: String,
}

impl FileSum {
    fn of(bytes: &[u8]) -> FileSum {
        FileSum {
            bytes: bytes.len() as u64,
            sha256: sha256(bytes),
        }
    }
}

/// The bytes of `dir/name` once their size and checksum match the header's.
fn read_checked(dir: &Path, header: &Header, name: &str) -> Result<Vec<u8>> {
    let sum = header.files.get(name).ok_or_else(|| {
        bad(
            &dir.join(HEADER_FILE),
            format!("the header has no checksum of {name}"),
        )
    })?;
    let path = dir.join(name);
    let bytes = read(&path)?;
    if bytes.len() as u64 != sum.bytes {
        return Err(bad(
            &path,
            format!(
                "{} bytes where {} were written: the file is truncated or damaged",
                bytes.len(),
                sum.bytes
            ),
        ));
    }
    if sha256(&bytes) != sum.sha256 {
        return Err(bad(&path, "checksum mismatch: the file is damaged".into()));
    }
    Ok(bytes)
}

fn native_byte_order() -> &'static str {
    if cfg!(target_endian = "little") {
        "little"
    } else {
        "big"
    }
}

fn bad(path: &Path, reason: String) -> Error {
    Error::Snapshot {
        path: path.to_path_buf(),
        reason,
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(Error::io(path))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).map_err(Error::io(path))
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(path)(e)),
        _ => Ok(()),
    }
}
