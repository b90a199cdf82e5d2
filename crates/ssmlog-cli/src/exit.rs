//! Exit codes shared by every subcommand, so scripts can tell findings from bad input.

use std::process::ExitCode;

/// Everything held: policies valid, request allowed, proof passed.
pub const OK: u8 = 0;
/// The run worked and found something: a denial, a validation error, a failing proof.
pub const FINDINGS: u8 = 1;
/// The input could not be used: unreadable file, malformed JSON or config, bad arguments.
pub const BAD_INPUT: u8 = 2;

pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}
