//! Config errors people can act on: which field, what was given, how to fix it, and where.

use std::fmt;

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file, as the user named it.
    pub file: String,
    /// Dotted field path, `accounts.members[2].id`; empty for the whole file.
    pub field: String,
    /// The value given, as written, when there was one.
    pub value: Option<String>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// 1-based line and column of the value (or its table), when it is in the file.
    pub line: Option<usize>,
    /// See `line`.
    pub column: Option<usize>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": ")?;
        if !self.field.is_empty() {
            write!(f, "`{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// All the problems found in one config, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// One step of a field path.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (part.get(..i).unwrap_or(""), part.get(i..).unwrap_or("")),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(n) = idx.trim_end_matches(']').parse() {
                out.push(Step::Index(n));
            }
        }
    }
    out
}

/// The byte span of the deepest value on `path` that exists in the document: the value
/// itself, or the nearest table above it when the field is missing.
pub(crate) fn span_of(doc: &Spanned<DeTable<'_>>, path: &str) -> Option<std::ops::Range<usize>> {
    let mut best = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut array: Option<&DeArray<'_>> = None;
    for step in steps(path) {
        let next: Option<&Spanned<DeValue<'_>>> = match (step, table, array) {
            (Step::Key(k), Some(t), _) => t.get(k),
            (Step::Index(i), _, Some(a)) => a.get(i),
            _ => None,
        };
        let Some(v) = next else { break };
        best = Some(v.span());
        table = None;
        array = None;
        match v.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    best
}

/// The dotted path of the deepest key or value whose span contains `offset`, so parser
/// errors (an unknown field, a wrong type) can name their field too. Leaf spans are exact;
/// a table's own span may cover only its header, so every branch is searched.
pub(crate) fn path_at(doc: &Spanned<DeTable<'_>>, offset: usize) -> String {
    let mut best = (0, String::new());
    search_table(doc.get_ref(), offset, "", 0, &mut best);
    best.1
}

fn contains(span: &std::ops::Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

fn search_table(
    t: &DeTable<'_>,
    offset: usize,
    prefix: &str,
    depth: usize,
    best: &mut (usize, String),
) {
    for (k, v) in t.iter() {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        if (contains(&k.span(), offset) || contains(&v.span(), offset)) && depth + 1 > best.0 {
            *best = (depth + 1, path.clone());
        }
        search_value(v.get_ref(), offset, &path, depth + 1, best);
    }
}

fn search_value(
    v: &DeValue<'_>,
    offset: usize,
    path: &str,
    depth: usize,
    best: &mut (usize, String),
) {
    match v {
        DeValue::Table(t) => search_table(t, offset, path, depth, best),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if contains(&item.span(), offset) && depth + 1 > best.0 {
                    *best = (depth + 1, p.clone());
                }
                search_value(item.get_ref(), offset, &p, depth + 1, best);
            }
        }
        _ => {}
    }
}
