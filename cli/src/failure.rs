//! How a command fails: the message and hint on stderr, and the exit status.
//!
//! | status | meaning                                              |
//! |--------|------------------------------------------------------|
//! | 0      | success                                              |
//! | 1      | `check` found damage                                 |
//! | 2      | error: the command could not do its work             |
//! | 3      | the database or document does not exist (NOT_FOUND)  |
//!
//! Core errors keep their stable code (`LOCKED`, `CORRUPTION`, ...) in the message.

use std::process::ExitCode;

use docdb::{Error, ErrorKind};

pub const EXIT_DAMAGE: u8 = 1;
pub const EXIT_ERROR: u8 = 2;
pub const EXIT_NOT_FOUND: u8 = 3;
/// A closed stdout (`docdb dump | head`) ends the command quietly, with the status a
/// process killed by SIGPIPE has.
const EXIT_BROKEN_PIPE: u8 = 141;

#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
    hint: Option<String>,
}

impl Failure {
    /// An error with exit status 2.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_ERROR,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint (after any earlier one).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        self.hint = Some(match self.hint.take() {
            Some(first) => format!("{first}; {hint}"),
            None => hint,
        });
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// An I/O error of the tool itself (input and output files, stdout).
    pub fn io(context: impl std::fmt::Display, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure {
                code: EXIT_BROKEN_PIPE,
                message: String::new(),
                hint: None,
            };
        }
        Failure::new(format!("{context}: {e}"))
    }

    /// Prints the message and hint on stderr; returns the exit status.
    pub fn report(self) -> ExitCode {
        if !self.message.is_empty() {
            eprintln!("docdb: error: {}", self.message);
        }
        if let Some(hint) = self.hint {
            eprintln!("docdb: hint: {hint}");
        }
        ExitCode::from(self.code)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let kind = e.kind();
        let mut f = Failure::new(format!("{}: {e}", kind.as_str()));
        match kind {
            ErrorKind::NotFound => f.code = EXIT_NOT_FOUND,
            ErrorKind::Locked => {
                f = f.with_hint(
                    "another process (a program using DocDB, `docdb serve`, or another docdb \
                     command) has this store open; run this command once it has closed the \
                     store, or reach a served store through its server",
                )
            }
            ErrorKind::Corruption => f = f.with_hint("run `docdb check DIR` to list every problem"),
            _ => {}
        }
        f
    }
}
