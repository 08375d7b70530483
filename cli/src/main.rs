//! `docdb`: look inside a DocDB store, check it, move documents in and out, compact it and
//! back it up. Data goes to stdout, diagnostics and progress to stderr; exit codes are
//! listed in `docs/cli.md` (and in [`failure`]).

mod base64;
mod check;
mod docs;
mod failure;
mod inspect;
mod jsonl;
mod maintain;
mod progress;
mod store;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::failure::Failure;

/// Inspect, check, dump, load, compact and back up a DocDB data directory, or a server's
/// store (STORE given as a URL such as unix:///run/docdb/docdb.sock).
///
/// Exit status: 0 success, 1 `check` found damage, 2 error, 3 the database or document
/// does not exist.
#[derive(Parser)]
#[command(name = "docdb", version = docdb::VERSION, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(flatten)]
    remote: store::Remote,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand takes.
#[derive(Args, Clone, Copy)]
pub struct Global {
    /// No progress output and no summaries on stderr (errors are still reported).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The STORE argument of a subcommand is a data directory, or the URL of a server
/// (`unix:///path.sock`, `tcp://host:port`, `tls://host:port`, with `--token-file` and
/// `--tls-ca`): every subcommand but `check` and `backup` (which read the files) works on
/// both.
#[derive(Subcommand)]
enum Command {
    /// List the databases with their documents, live and dead bytes.
    Ls {
        /// The data directory, or a server's URL.
        #[arg(value_name = "STORE")]
        dir: PathBuf,
    },
    /// Show the statistics of the store, or of one database, as a table or JSON.
    Stats {
        #[arg(value_name = "STORE")]
        dir: PathBuf,
        /// Only this database.
        db: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a document's bytes to stdout.
    Get {
        #[arg(value_name = "STORE")]
        dir: PathBuf,
        db: String,
        id: u64,
        /// Indent a JSON document (fails if the document is not JSON).
        #[arg(long)]
        pretty: bool,
    },
    /// Insert or replace a document with the bytes of FILE (or stdin).
    Put {
        #[arg(value_name = "STORE")]
        dir: PathBuf,
        db: String,
        id: u64,
        /// Where the document's bytes come from; `-` (the default) is stdin.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// Create the data directory and the database if they do not exist.
        #[arg(long)]
        create: bool,
    },
    /// Delete a document.
    Del {
        #[arg(value_name = "STORE")]
        dir: PathBuf,
        db: String,
        id: u64,
    },
    /// Write documents as JSON Lines to stdout: one database, or all of them.
    Dump {
        #[arg(value_name = "STORE")]
        dir: PathBuf,
        /// Only this database (otherwise every line names its database).
        db: Option<String>,
    },
    /// Read documents as JSON Lines (as written by dump) and insert or replace them.
    ///
    /// Without --batch, the whole input is read and checked first and each database's
    /// documents are committed as one atomic batch: a bad line commits nothing. With
    /// --batch N, every N consecutive documents of a database are committed together: a
    /// bad line leaves the batches before it committed and nothing of its own batch.
    Load {
        #[arg(value_name = "STORE")]
        dir: PathBuf,
        /// Load every line into this database (otherwise each line must name its database).
        db: Option<String>,
        /// The input; `-` (the default) is stdin.
        #[arg(short, long, default_value = "-")]
        input: PathBuf,
        /// Commit every N documents instead of all at once.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        batch: Option<u64>,
        /// Create the data directory and the databases if they do not exist.
        #[arg(long)]
        create: bool,
    },
    /// Verify every record, checkpoint and the catalog; report each problem.
    ///
    /// Exit status 0 when clean, 1 when damage was found, 2 when the check could not run.
    Check { dir: PathBuf },
    /// Compact one database, or every database.
    Compact {
        #[arg(value_name = "STORE")]
        dir: PathBuf,
        db: Option<String>,
    },
    /// Copy the store into DEST (absent or empty): consistent, fsynced and verified.
    Backup { dir: PathBuf, dest: PathBuf },
    /// Serve a data directory to other processes over a Unix socket (and TCP or TLS), until
    /// SIGTERM or SIGINT. See docs/server.md.
    Serve(docdb_server::ServeArgs),
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    // A `--create` that fails leaves no new store behind.
    let fresh = match &cli.command {
        Command::Put {
            dir, create: true, ..
        }
        | Command::Load {
            dir, create: true, ..
        } => store::Fresh::before(dir),
        _ => None,
    };
    let result = run_command(cli);
    if let (Err(_), Some(fresh)) = (&result, fresh) {
        fresh.undo();
    }
    result
}

fn run_command(cli: Cli) -> Result<ExitCode, Failure> {
    let g = cli.global;
    store::set_remote(cli.remote);
    let done = match cli.command {
        Command::Serve(args) => return Ok(docdb_server::run(args)),
        Command::Check { dir } => {
            store::local_only(&dir, "check")?;
            return check::check(g, &dir);
        }
        Command::Ls { dir } => inspect::ls(&dir),
        Command::Stats { dir, db, json } => inspect::stats(&dir, db.as_deref(), json),
        Command::Get {
            dir,
            db,
            id,
            pretty,
        } => docs::get(&dir, &db, id, pretty),
        Command::Put {
            dir,
            db,
            id,
            file,
            create,
        } => docs::put(&dir, &db, id, &file, create),
        Command::Del { dir, db, id } => docs::del(&dir, &db, id),
        Command::Dump { dir, db } => transfer::dump(g, &dir, db.as_deref()),
        Command::Load {
            dir,
            db,
            input,
            batch,
            create,
        } => transfer::load(g, &dir, db.as_deref(), &input, batch, create),
        Command::Compact { dir, db } => maintain::compact(g, &dir, db.as_deref()),
        Command::Backup { dir, dest } => {
            store::local_only(&dir, "backup")?;
            maintain::backup(g, &dir, &dest)
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(f) => f.report(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
