//! `huiqi index build`: input folder → published snapshot, with progress and a summary.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use huiqi_index::embed::{self, Choice};
use huiqi_index::pipeline;
use huiqi_index::progress::{IndexingStep, Progress};

use super::{CliError, CliResult};

/// A progress bar on the terminal (hidden when stderr is not one).
struct Bar {
    bar: Mutex<indicatif::ProgressBar>,
}

impl Bar {
    fn new() -> Bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg:<11} [{bar:30}] {pos}/{len} {elapsed}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        Bar {
            bar: Mutex::new(bar),
        }
    }
}

impl Progress for Bar {
    fn step(&self, step: IndexingStep, total: Option<u64>) {
        let bar = self.bar.lock().expect("progress lock");
        bar.set_message(step.to_string());
        bar.set_position(0);
        bar.set_length(total.unwrap_or(0));
    }

    fn advance(&self, n: u64) {
        self.bar.lock().expect("progress lock").inc(n);
    }
}

pub(super) fn build(
    input: &Path,
    out_dir: &Path,
    choice: &Choice,
    out: &mut dyn Write,
) -> CliResult {
    if !input.is_dir() {
        return Err(CliError::Input(format!(
            "--input {}: not a folder",
            input.display()
        )));
    }
    let (embedder, warning) = embed::select(choice).map_err(|e| CliError::Input(e.to_string()))?;
    if let Some(w) = warning {
        writeln!(out, "warning: {w}")?;
    }
    let bar = Bar::new();
    let result = pipeline::build(input, out_dir, embedder.as_ref(), &bar);
    bar.bar.lock().expect("progress lock").finish_and_clear();
    let summary = match result {
        Ok(s) => s,
        Err(huiqi_index::Error::Input(report)) => {
            for issue in &report.issues {
                writeln!(out, "{issue}")?;
            }
            return Err(CliError::Input(format!(
                "{} error(s) in {}; nothing was published, the current snapshot is unchanged",
                report.errors().count(),
                input.display()
            )));
        }
        Err(e) => return Err(super::index_error(e)),
    };
    for w in &summary.warnings {
        writeln!(out, "{w}")?;
    }
    let m = &summary.manifest;
    let rows = vec![
        vec![
            "snapshot".into(),
            format!("v{} ({})", m.version, summary.dir.display()),
        ],
        vec!["products".into(), m.counts.products.to_string()],
        vec!["policies".into(), m.counts.policies.to_string()],
        vec!["enterprises".into(), m.counts.enterprises.to_string()],
        vec![
            "embedder".into(),
            format!("{} ({} dims)", m.embedder.id, m.embedder.dim),
        ],
        vec!["input files".into(), m.inputs.len().to_string()],
        vec!["warnings".into(), summary.warnings.len().to_string()],
    ];
    out.write_all(crate::table::render(&["built", ""], &rows).as_bytes())?;
    let timing: Vec<Vec<String>> = summary
        .timings
        .iter()
        .map(|(step, d)| vec![step.to_string(), format!("{:.2} s", d.as_secs_f64())])
        .collect();
    writeln!(out)?;
    out.write_all(crate::table::render(&["stage", "time"], &timing).as_bytes())?;
    Ok(())
}
