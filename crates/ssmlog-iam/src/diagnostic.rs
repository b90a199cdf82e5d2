//! Diagnostics people can act on: what is wrong, where (file, line:column, JSON path), and the fix.

use serde::Serialize;

use crate::json::{line_col, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// AWS would reject the policy, or it cannot mean what it says.
    Error,
    /// AWS accepts it, but it is likely a mistake or a weakness.
    Warning,
}

/// One finding about a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable identifier (`unknown-operator`), for suppressions and tests.
    pub code: &'static str,
    /// What is wrong: lowercase, no trailing period, user input in backticks.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
    /// The file or policy name the document came from.
    pub source: String,
    /// The JSON path of the element (`Statement[1].Condition.StringEqual`).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte span in the source, for underlining.
    #[serde(skip)]
    pub span: Span,
}

impl Diagnostic {
    /// Renders the diagnostic for people: header, location, the source line underlined, help.
    pub fn render(&self, text: &str) -> String {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{label}[{}]: {}\n", self.code, self.message);
        out.push_str(&format!(
            "  --> {}:{}:{}",
            self.source, self.line, self.column
        ));
        if !self.path.is_empty() {
            out.push_str(&format!(" ({})", self.path));
        }
        out.push('\n');
        if let Some(line_text) = text.lines().nth(self.line.saturating_sub(1)) {
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            let (end_line, end_col) = line_col(text, self.span.end);
            let width = if end_line == self.line && end_col > self.column {
                end_col - self.column
            } else {
                line_text
                    .chars()
                    .count()
                    .saturating_sub(self.column - 1)
                    .max(1)
            };
            out.push_str(&format!("{pad} |\n{gutter} | {line_text}\n"));
            out.push_str(&format!(
                "{pad} | {}{}\n",
                " ".repeat(self.column.saturating_sub(1)),
                "^".repeat(width.clamp(1, 200))
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        out
    }
}

/// Collects diagnostics for one source text, computing line and column from spans.
pub(crate) struct Diagnostics<'a> {
    pub(crate) source: &'a str,
    pub(crate) text: &'a str,
    pub(crate) list: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(source: &'a str, text: &'a str) -> Self {
        Diagnostics {
            source,
            text,
            list: Vec::new(),
        }
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        span: Span,
        path: &str,
        message: String,
        help: Option<String>,
    ) {
        let (line, column) = line_col(self.text, span.start);
        self.list.push(Diagnostic {
            severity,
            code,
            message,
            help,
            source: self.source.to_string(),
            path: path.to_string(),
            line,
            column,
            span,
        });
    }

    pub(crate) fn error(&mut self, code: &'static str, span: Span, path: &str, message: String) {
        self.push(Severity::Error, code, span, path, message, None);
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }
}

/// The closest candidate within a small edit distance, for "did you mean" help.
pub(crate) fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let w = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&w, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_name() {
        let ops = ["StringEquals", "StringLike", "NumericEquals"];
        assert_eq!(did_you_mean("StringEqual", &ops), Some("StringEquals"));
        assert_eq!(did_you_mean("stringlike", &ops), Some("StringLike"));
        assert_eq!(did_you_mean("Bogus", &ops), None);
    }

    #[test]
    fn renders_an_underlined_snippet() {
        let text = "{\n  \"Effect\": \"Alow\"\n}";
        let mut d = Diagnostics::new("p.json", text);
        let start = text.find("\"Alow\"").unwrap();
        d.push(
            Severity::Error,
            "effect",
            Span {
                start,
                end: start + 6,
            },
            "Effect",
            "`Alow` is not an effect".into(),
            Some("use `Allow` or `Deny`".into()),
        );
        let out = d.list[0].render(text);
        assert!(out.contains("--> p.json:2:13 (Effect)"), "{out}");
        assert!(out.contains("2 |   \"Effect\": \"Alow\""), "{out}");
        assert!(out.contains("|             ^^^^^^\n"), "{out}");
        assert!(out.contains("= help: use `Allow` or `Deny`"), "{out}");
    }
}
