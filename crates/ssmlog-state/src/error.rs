//! Errors that say which file, and where in it, is wrong.

use std::fmt;

/// A problem with one file of a State: its path inside the State directory, the JSON path
/// (`$.accounts[2].regions[0].name`) or line/column when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError {
    /// File path relative to the State directory (or absolute, for IO errors).
    pub file: String,
    /// JSON path inside the file, when the problem is at a value.
    pub json_path: Option<String>,
    /// 1-based line and column, when the JSON parser reported them.
    pub line_column: Option<(usize, usize)>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl StateError {
    /// An error at `file` (and `json_path`, if known).
    pub fn new(file: &str, json_path: Option<String>, message: String) -> Self {
        Self {
            file: file.to_string(),
            json_path,
            line_column: None,
            message,
        }
    }

    /// A JSON syntax or shape error in `file`, keeping serde_json's line and column.
    pub fn json(file: &str, e: &serde_json::Error) -> Self {
        Self {
            file: file.to_string(),
            json_path: None,
            line_column: (e.line() > 0).then(|| (e.line(), e.column())),
            message: strip_position(&e.to_string()),
        }
    }

    /// A shape error at `json_path` in `file`.
    pub fn json_at(file: &str, json_path: String, e: &serde_json::Error) -> Self {
        Self {
            json_path: Some(json_path),
            ..Self::json(file, e)
        }
    }

    /// Prefixes the file with the State directory, for messages shown to people.
    pub fn in_dir(mut self, dir: &std::path::Path) -> Self {
        self.file = dir.join(&self.file).display().to_string();
        self
    }
}

/// serde_json appends " at line L column C"; we report those separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((l, c)) = self.line_column {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(p) = &self.json_path {
            write!(f, ": at `{p}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for StateError {}
