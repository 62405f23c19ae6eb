//! The `huiqi` command line. Each command reads its input, makes one call into the libraries
//! and prints the result; errors in what the user gave exit with code 2.

mod check;
mod eval;
mod extract;
pub mod fields;
mod generate;
mod index;
mod matching;
mod reach;
mod search;
mod serve;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use huiqi_index::text::{DocKind, Filters};

/// A command's failure: the user's input was wrong (exit 2), or something else broke (exit 1).
#[derive(Debug)]
pub enum CliError {
    Input(String),
    Internal(anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Internal(_) => 1,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Input(m) => f.write_str(m),
            CliError::Internal(e) => write!(f, "internal error: {e:#}"),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Internal(e.into())
    }
}

pub type CliResult = Result<(), CliError>;

#[derive(Debug, Parser)]
#[command(
    name = "huiqi",
    version,
    about = "惠企: match SMEs with the loans and support policies they qualify for"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and type-check rules: rule text, a rule file, a product/policy/enterprise file or
    /// an input folder. Policies' example cases are run too.
    Check {
        /// Rule text, or paths to files or folders.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// Print the problems as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a rule for one enterprise and show every clause.
    Eval {
        /// Enterprise JSON file (one object), or a JSON Lines / array file with --id.
        #[arg(long)]
        enterprise: PathBuf,
        /// Pick this enterprise id from a file holding several.
        #[arg(long)]
        id: Option<String>,
        /// Rule text, a rule file, or a product/policy JSON file (its eligibility is used).
        #[arg(long)]
        rule: String,
        /// Evaluation date (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Evaluate as this reader, e.g. `institution:BANK-HANHAI` or `advisor`: categories the
        /// enterprise has not authorised for the reader are unknown.
        #[arg(long)]
        reader: Option<String>,
        /// Print the explanation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read policy prose into a draft rule with the sentence of every clause, for review; or,
    /// with --eval, compare drafts with the hand-written rules of a folder of policies.
    Extract {
        /// A policy JSON file (its `text` is read) or a plain text file.
        #[arg(required_unless_present = "eval", conflicts_with = "eval")]
        file: Option<PathBuf>,
        /// A folder of policy JSON files: print clause precision and recall per policy.
        #[arg(long, value_name = "DIR")]
        eval: Option<PathBuf>,
        /// Print the draft (or the evaluation) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build and publish index snapshots.
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Search products and policies: full-text (jieba-segmented) or semantic.
    Search {
        query: String,
        /// Data directory holding the snapshots.
        #[arg(long, env = "HUIQI_DATA", default_value = "data")]
        data: PathBuf,
        /// Rank by embedding similarity instead of words.
        #[arg(long)]
        semantic: bool,
        /// Only products or only policies.
        #[arg(long, value_parser = ["product", "policy"])]
        doc: Option<String>,
        /// Only this kind, e.g. 信用贷 or 贷款贴息.
        #[arg(long)]
        kind: Option<String>,
        /// Only offers serving this region code (e.g. 330106).
        #[arg(long)]
        region: Option<String>,
        /// Only this institution (product institution_id or policy issuer).
        #[arg(long)]
        institution: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// The model folder, when the snapshot was built with a fastembed model.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Include drafts and expired offers (by default only published ones are shown).
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Match one enterprise against every live product and policy of the snapshot: eligible,
    /// needs-info and near-miss offers with scores and reasons, and the facts to add first.
    Match {
        /// An enterprise id in the snapshot, or a JSON file of one enterprise.
        #[arg(long)]
        enterprise: String,
        #[arg(long, env = "HUIQI_DATA", default_value = "data")]
        data: PathBuf,
        /// Evaluation date (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Match as this reader (e.g. `institution:BANK-HANHAI`): unauthorised categories are unknown.
        #[arg(long)]
        reader: Option<String>,
        /// Entries shown per list.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Who a policy would reach (政策找人): counts by region, size and industry and a sample of
    /// the eligible enterprises, over every enterprise of the snapshot.
    Reach {
        /// A policy id in the snapshot, or a JSON file of one policy (e.g. a draft).
        #[arg(long)]
        policy: String,
        #[arg(long, env = "HUIQI_DATA", default_value = "data")]
        data: PathBuf,
        /// Evaluation date (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Enterprises listed per outcome.
        #[arg(long, default_value_t = 10)]
        sample: usize,
        #[arg(long)]
        json: bool,
    },
    /// Write N synthetic enterprises as JSON Lines (deterministic for a seed) and report the
    /// generation rate on stderr.
    Generate {
        #[arg(long, default_value_t = 1000)]
        count: u64,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Output file; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the HTTP API (the main job): on first start it builds the index from the fixtures,
    /// stores the fixture enterprises and prints a demo token for each role.
    Serve(crate::config::ServeArgs),
    /// List the fields rules can use.
    Fields {
        /// As a Markdown table (the one in docs/rules.md).
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Validate the input folder, build a snapshot and publish it atomically.
    Build {
        #[arg(long, default_value = "fixtures")]
        input: PathBuf,
        /// Data directory; the snapshot goes to <out>/snapshots/ and <out>/current names it.
        #[arg(long, env = "HUIQI_DATA", default_value = "data")]
        out: PathBuf,
        /// auto (e5 when present, else lexical), lexical, e5, or fastembed:<model folder>.
        #[arg(long, default_value = "auto", value_parser = huiqi_index::embed::parse_choice)]
        embedder: huiqi_index::embed::Choice,
    },
}

/// Maps library errors to exit codes: the user's fault is 2, anything else 1.
fn index_error(e: huiqi_index::Error) -> CliError {
    if e.is_user_error() {
        CliError::Input(e.to_string())
    } else {
        CliError::Internal(e.into())
    }
}

/// Runs one command, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> CliResult {
    match cli.command {
        Command::Check { inputs, json } => check::run(&inputs, json, out),
        Command::Eval {
            enterprise,
            id,
            rule,
            as_of,
            reader,
            json,
        } => eval::run(
            eval::Args {
                enterprise,
                id,
                rule,
                as_of: as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
                reader,
                json,
            },
            out,
        ),
        Command::Extract { file, eval, json } => match (file, eval) {
            (_, Some(dir)) => extract::run_eval(&dir, json, out),
            (Some(file), None) => extract::run(&file, json, out),
            (None, None) => Err(CliError::Input("give a file or --eval <dir>".into())),
        },
        Command::Index {
            command:
                IndexCommand::Build {
                    input,
                    out: data,
                    embedder,
                },
        } => index::build(&input, &data, &embedder, out),
        Command::Search {
            query,
            data,
            semantic,
            doc,
            kind,
            region,
            institution,
            limit,
            model,
            all,
            json,
        } => {
            let doc = doc.map(|d| {
                if d == "product" {
                    DocKind::Product
                } else {
                    DocKind::Policy
                }
            });
            let filters = Filters {
                doc,
                kind,
                institution,
                region,
                published_only: !all,
            };
            search::run(
                search::Args {
                    query: &query,
                    data: &data,
                    semantic,
                    json,
                    filters,
                    limit,
                    model: model.as_deref(),
                },
                out,
            )
        }
        Command::Match {
            enterprise,
            data,
            as_of,
            reader,
            limit,
            json,
        } => matching::run(
            matching::Args {
                enterprise: &enterprise,
                data: &data,
                as_of: as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
                reader: reader.as_deref().map(eval::parse_reader).transpose()?,
                limit,
                json,
            },
            out,
        ),
        Command::Reach {
            policy,
            data,
            as_of,
            sample,
            json,
        } => reach::run(
            reach::Args {
                policy: &policy,
                data: &data,
                as_of: as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
                sample,
                json,
            },
            out,
        ),
        Command::Generate {
            count,
            seed,
            out: file,
        } => generate::run(count, seed, file.as_deref(), out),
        Command::Fields { markdown } => fields::run(markdown, out),
        Command::Serve(args) => serve::run(&args, out),
    }
}

/// Prints `value` as pretty JSON (the `--json` output of every command).
fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Internal(e.into()))?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// Reads rule text from `arg`: the contents of a file if it names one, else `arg` itself.
fn rule_source(arg: &str) -> Result<(String, Option<PathBuf>), CliError> {
    let path = PathBuf::from(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))?;
        Ok((text, Some(path)))
    } else {
        Ok((arg.to_string(), None))
    }
}
