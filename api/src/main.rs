use std::io::Write;

use clap::Parser;
use huiqi_api::cli::{Cli, run};

fn main() {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run(cli, &mut out);
    let _ = out.flush();
    if let Err(e) = result {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("huiqi: {e}");
        }
        std::process::exit(e.exit_code());
    }
}
