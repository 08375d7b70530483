//! `docdb-server`: the server alone (the `docdb` tool offers the same as `docdb serve`).

use clap::Parser;

#[derive(Parser)]
#[command(name = "docdb-server", version, about)]
struct Cli {
    #[command(flatten)]
    serve: docdb_server::ServeArgs,
}

fn main() -> std::process::ExitCode {
    docdb_server::run(Cli::parse().serve)
}
