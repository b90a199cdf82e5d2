//! Diagnostics people can act on: what is wrong, where (file, line:column, JSON path), and the fix.

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use serde::Serialize;

use crate::json::Span;

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
        if let Some(snippet) = Snippet::new(text, self.span, self.column) {
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            out.push_str(&format!("{pad} |\n{gutter} | {}\n", snippet.text));
            out.push_str(&format!(
                "{pad} | {}{}\n",
                " ".repeat(snippet.caret),
                "^".repeat(snippet.width)
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        out
    }
}

/// Characters of a source line shown around the column; longer (minified) lines are cut.
const SNIPPET_CHARS: usize = 120;
/// Characters kept before the column when a line is cut.
const SNIPPET_BEFORE: usize = 40;

/// The source line of a diagnostic as printed: cut around the column when it is long.
struct Snippet<'t> {
    /// The printed text (with `…` where it was cut).
    text: std::borrow::Cow<'t, str>,
    /// Characters before the first `^`.
    caret: usize,
    /// How many `^`.
    width: usize,
}

impl<'t> Snippet<'t> {
    /// Finds the line around `span.start` without scanning the text before it.
    fn new(text: &'t str, span: Span, column: usize) -> Option<Self> {
        let start = span.start.min(text.len());
        let before = text.get(..start)?;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = text
            .get(start..)?
            .find('\n')
            .map_or(text.len(), |i| start + i);
        let line = text.get(line_start..line_end)?.trim_end_matches('\r');
        let col = column.saturating_sub(1);
        let end = span.end.clamp(start, line_start + line.len());
        let width = text.get(start..end).map_or(1, |s| s.chars().count()).max(1);
        let len = line.chars().count();
        if len <= SNIPPET_CHARS {
            return Some(Snippet {
                text: line.into(),
                caret: col,
                width: width.min(len.saturating_sub(col).max(1)),
            });
        }
        let from = col.saturating_sub(SNIPPET_BEFORE);
        let shown: String = line.chars().skip(from).take(SNIPPET_CHARS).collect();
        let cut_before = from > 0;
        let cut_after = from + SNIPPET_CHARS < len;
        let text = format!(
            "{}{shown}{}",
            if cut_before { "…" } else { "" },
            if cut_after { "…" } else { "" }
        );
        let caret = col - from + usize::from(cut_before);
        Some(Snippet {
            text: text.into(),
            caret,
            width: width.min(SNIPPET_CHARS - (col - from)).max(1),
        })
    }
}

/// Line starts of a text, built once on the first diagnostic and shared by every collector
/// of that text, with the last position found (diagnostics mostly come in text order).
#[derive(Default)]
struct LineIndex {
    starts: OnceCell<crate::json::LineStarts>,
    /// Byte offset, 0-based line and 1-based column of the last position computed.
    last: Cell<Option<(usize, usize, usize)>>,
}

impl LineIndex {
    /// 1-based line and column (in characters) of byte `offset`: the line from the line
    /// starts, then counting characters from the line start (or from the last position,
    /// when it is earlier on the same line).
    fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let starts = self
            .starts
            .get_or_init(|| crate::json::LineStarts::new(text));
        let offset = offset.min(text.len());
        let (line, line_start) = starts.line_of(offset);
        let (from, col) = match self.last.get() {
            Some((last_offset, last_line, last_col))
                if last_line == line && last_offset <= offset =>
            {
                (last_offset, last_col)
            }
            _ => (line_start, 1),
        };
        let col = col + text.get(from..offset).map_or(0, |s| s.chars().count());
        self.last.set(Some((offset, line, col)));
        (line + 1, col)
    }
}

/// Collects diagnostics for one source text, computing line and column from spans.
pub(crate) struct Diagnostics<'a> {
    pub(crate) source: &'a str,
    pub(crate) text: &'a str,
    pub(crate) list: Vec<Diagnostic>,
    lines: Rc<LineIndex>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(source: &'a str, text: &'a str) -> Self {
        Diagnostics {
            source,
            text,
            list: Vec::new(),
            lines: Rc::default(),
        }
    }

    /// A collector for a part of the same text under another name, sharing the line index
    /// (so many policies inside one request file do not each index the whole file).
    pub(crate) fn part<'b>(&self, source: &'b str) -> Diagnostics<'b>
    where
        'a: 'b,
    {
        Diagnostics {
            source,
            text: self.text,
            list: Vec::new(),
            lines: Rc::clone(&self.lines),
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
        let (line, column) = self.lines.position(self.text, span.start);
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
    fn positions_from_the_line_index_match_a_scan() {
        let text = "{\n  \"a\": \"é\",\n\n  \"b\": [1, 2, \"ü\", 3]\n}";
        let index = LineIndex::default();
        // In order, out of order, and again: the cached last position must not leak.
        let offsets: Vec<usize> = (0..=text.len())
            .filter(|&o| text.is_char_boundary(o))
            .collect();
        for &o in offsets.iter().chain(offsets.iter().rev()).chain(&offsets) {
            assert_eq!(
                index.position(text, o),
                crate::json::line_col(text, o),
                "offset {o}"
            );
        }
    }

    #[test]
    fn many_diagnostics_in_a_large_file_are_linear() {
        // 100,000 one-line requests: a scan from the start per diagnostic took seconds.
        let text = "{\"x\": 1}\n".repeat(100_000);
        let mut d = Diagnostics::new("big.json", &text);
        let started = std::time::Instant::now();
        for i in 0..100_000 {
            let start = i * 9 + 1;
            let mut part = d.part("part");
            part.push(
                Severity::Warning,
                "w",
                Span {
                    start,
                    end: start + 3,
                },
                "",
                String::new(),
                None,
            );
            d.list.append(&mut part.list);
        }
        assert_eq!((d.list[99_999].line, d.list[99_999].column), (100_000, 2));
        assert!(
            started.elapsed().as_secs_f64() < 2.0,
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn long_minified_lines_are_cut_around_the_column() {
        let statement = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},"#;
        let mut text = r#"{"Version":"2012-10-17","Statement":["#.to_string();
        for _ in 0..4000 {
            text.push_str(statement);
        }
        let bad = text.len() + 10;
        text.push_str(r#"{"Effect":"Alow","Action":"s3:GetObject","Resource":"*"}]}"#);
        let mut d = Diagnostics::new("min.json", &text);
        d.push(
            Severity::Error,
            "effect",
            Span {
                start: bad,
                end: bad + 6,
            },
            "Effect",
            "`Alow` is not an Effect".into(),
            None,
        );
        let out = d.list[0].render(&text);
        assert!(out.len() < 1000, "{} bytes", out.len());
        let lines: Vec<&str> = out.lines().collect();
        let code = lines[3];
        let carets = lines[4];
        let at = carets.find('^').unwrap();
        // The carets sit under `"Alow"` in the cut line.
        let under: String = code
            .chars()
            .skip(carets[..at].chars().count())
            .take(6)
            .collect();
        assert_eq!(under, "\"Alow\"", "{out}");
        assert!(code.contains("1 | …"), "{code}");
        assert!(code.ends_with('…') || code.ends_with("]}"), "{code}");
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
