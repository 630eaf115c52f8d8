//! One module per subcommand.

pub mod check;
pub mod explain;
pub mod fmt;

/// Prints a usage or I/O error the same way for every command.
pub fn fail(message: &str) -> crate::exit::CrmmapExit {
    eprintln!("error: {message}");
    crate::exit::CrmmapExit::Failure
}
