//! `huiqi generate`: synthetic enterprises as JSON Lines, with the rate it achieved.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use huiqi_engine::synthetic;

use super::{CliError, CliResult};

pub(super) fn run(count: u64, seed: u64, file: Option<&Path>, out: &mut dyn Write) -> CliResult {
    let started = Instant::now();
    let mut file_out;
    let sink: &mut dyn Write = match file {
        Some(path) => {
            let f = std::fs::File::create(path)
                .map_err(|e| CliError::Input(format!("{}: cannot create: {e}", path.display())))?;
            file_out = BufWriter::with_capacity(1 << 20, f);
            &mut file_out
        }
        None => out,
    };
    let mut line = Vec::with_capacity(4096);
    for e in synthetic::enterprises(seed, count) {
        line.clear();
        serde_json::to_writer(&mut line, &e).map_err(|e| CliError::Internal(e.into()))?;
        line.push(b'\n');
        sink.write_all(&line)?;
    }
    sink.flush()?;
    let secs = started.elapsed().as_secs_f64();
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "generated {count} enterprises (seed {seed}) in {secs:.2} s: {:.0} per second",
            count as f64 / secs.max(1e-9)
        );
    }
    Ok(())
}
