//! Every finding gets a place in the State files that decides it (file, line, column), so
//! code scanning can show it: the deciding statement for a proof, the preferences document
//! for a region, the manifest (`state.json`) for what lives there.
//!
//! The files are the ones `ssmlog render`/`pull` write (`ssmlog_state::to_files`, canonical
//! text), so the lines are those of the State directory.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use ssmlog_iam::json::{self, Json, JsonKind};
use ssmlog_state::{layout, State};

use crate::report::Finding;

/// Fills `file`, `json_path`, `line` and `column` of every finding that lacks them.
pub(crate) fn locate(state: &State, findings: &mut [Finding]) {
    if findings
        .iter()
        .all(|f| f.line.is_some() && f.column.is_some())
    {
        return;
    }
    // The files' text as `ssmlog render`/`pull` write them, serialised only for the files
    // findings point into (a large State has tens of thousands of documents).
    let documents: HashMap<String, &serde_json::Value> = state
        .documents()
        .into_iter()
        .map(|d| (d.path, d.document))
        .collect();
    // Which file: the finding's, else the deciding statement's policy, else the region's
    // preferences, else the manifest.
    for f in findings.iter_mut() {
        if f.file.is_some() || (f.line.is_some() && f.column.is_some()) {
            continue;
        }
        let exists = |p: &String| p == layout::MANIFEST || documents.contains_key(p);
        f.file = f
            .statements
            .iter()
            .map(|s| s.policy.clone())
            .find(exists)
            .or_else(|| match (&f.account, &f.region) {
                (Some(a), Some(r)) => Some(layout::preferences(a, r)).filter(exists),
                _ => None,
            })
            .or_else(|| Some(layout::MANIFEST.to_string()));
    }
    // The manifest is written only as far as the findings in it need: to where each of
    // their accounts is first named, unless one has a JSON path into it. Its large members
    // (the networks of every account and region) come after `accounts` and are then never
    // written.
    let in_manifest = || {
        findings.iter().filter(|f| {
            f.file.as_deref() == Some(layout::MANIFEST) && !(f.line.is_some() && f.column.is_some())
        })
    };
    let whole_manifest = in_manifest().any(|f| {
        f.json_path.is_some() || f.statements.iter().any(|s| s.policy == layout::MANIFEST)
    });
    let accounts: HashSet<[u8; 12]> = in_manifest()
        .filter_map(|f| account_id(f.account.as_deref()?))
        .collect();
    // A file's text, and where accounts are first named in it when that is already known.
    type Mentions = HashMap<[u8; 12], usize>;
    let file_text = |file: &str| -> Option<(Vec<u8>, Option<Mentions>)> {
        if file == layout::MANIFEST {
            let mut reader = ManifestReader {
                text: Vec::new(),
                scanned: 0,
                first: HashMap::new(),
                wanted: (!whole_manifest).then(|| accounts.clone()),
            };
            let written = ssmlog_state::write_manifest(state, &mut reader);
            // The reader scanned what it took for every account (complete once it stopped
            // or the write ended), unless it took the whole file without looking.
            let scanned = reader.wanted.is_some();
            match written {
                Ok(()) => {}
                Err(_) if reader.wanted.as_ref().is_some_and(HashSet::is_empty) => {}
                Err(_) => return None,
            }
            Some((reader.text, scanned.then_some(reader.first)))
        } else {
            Some((
                ssmlog_state::to_canonical_vec(documents.get(file)?).ok()?,
                None,
            ))
        }
    };
    // Each file is parsed and its lines indexed once, when a finding first points into it
    // (thousands of findings may point into one large manifest).
    let mut parsed: HashMap<String, Option<Rc<Parsed>>> = HashMap::new();
    let mut doc = |file: &str| -> Option<Rc<Parsed>> {
        parsed
            .entry(file.to_string())
            .or_insert_with(|| {
                let (bytes, mentions) = file_text(file)?;
                let text = String::from_utf8(bytes).ok()?;
                let lines = json::LineStarts::new(&text);
                Some(Rc::new(Parsed {
                    text,
                    root: OnceCell::new(),
                    lines,
                    mentions: mentions.map(OnceCell::from).unwrap_or_default(),
                }))
            })
            .clone()
    };
    for f in findings.iter_mut() {
        if f.line.is_some() && f.column.is_some() {
            continue;
        }
        let Some(file) = f.file.clone() else {
            continue;
        };
        let Some(parsed) = doc(&file) else {
            continue;
        };
        let text = &parsed.text;
        if f.json_path.is_none() {
            f.json_path = f.statements.iter().find(|s| s.policy == file).map(|s| {
                match parsed
                    .root()
                    .and_then(|r| r.get("Statement"))
                    .map(|n| &n.kind)
                {
                    Some(JsonKind::Array(_)) => format!("Statement[{}]", s.index),
                    _ => "Statement".to_string(),
                }
            });
        }
        let node = match &f.json_path {
            Some(p) => parsed.root().and_then(|root| find(root, p)),
            None => None,
        };
        let offset = node
            .map(|n| n.span.start)
            .or_else(|| {
                // The account's first mention, for findings about an account.
                f.account.as_ref().and_then(|a| parsed.first_mention(a))
            })
            .unwrap_or(0);
        let (line, column) = parsed.lines.line_col(text, offset);
        if f.line.is_none() {
            f.line = Some(line);
            f.column = Some(column);
        } else if f.line == Some(line) {
            f.column = Some(column);
        } else {
            f.column = Some(1);
        }
    }
}

/// A State file as findings are placed in it.
struct Parsed {
    text: String,
    /// Parsed when a finding has a JSON path into the file: findings about an account only
    /// need its first mention, and the manifest of a large State is large.
    root: OnceCell<Option<Json>>,
    lines: json::LineStarts,
    /// Where each account id (a JSON string of 12 digits) is first written, found in one
    /// pass over the text when first asked for.
    mentions: OnceCell<HashMap<[u8; 12], usize>>,
}

impl Parsed {
    fn root(&self) -> Option<&Json> {
        self.root
            .get_or_init(|| json::parse(&self.text).ok())
            .as_ref()
    }

    fn first_mention(&self, account: &str) -> Option<usize> {
        let text = self.text.as_bytes();
        let mentions = self.mentions.get_or_init(|| {
            let mut first = HashMap::new();
            scan_mentions(text, 0, &mut first, |_| {});
            first
        });
        mentions.get(&account_id(account)?).copied()
    }
}

fn account_id(account: &str) -> Option<[u8; 12]> {
    <[u8; 12]>::try_from(account.as_bytes()).ok()
}

/// Records where each account id (a JSON string of 12 digits) is first written in `text`,
/// looking at the quotes from `from` on that have room for an id after them; returns where
/// the next scan of a longer `text` starts.
fn scan_mentions(
    text: &[u8],
    from: usize,
    first: &mut HashMap<[u8; 12], usize>,
    mut named: impl FnMut(&[u8; 12]),
) -> usize {
    let end = text.len().saturating_sub(13);
    let mut at = from;
    while let Some(i) = text
        .get(at..end)
        .and_then(|t| t.iter().position(|&b| b == b'"'))
        .map(|i| at + i)
    {
        let id = text
            .get(i + 1..i + 13)
            .and_then(|id| <[u8; 12]>::try_from(id).ok());
        if let Some(id) = id {
            if text.get(i + 13) == Some(&b'"') && id.iter().all(u8::is_ascii_digit) {
                if let std::collections::hash_map::Entry::Vacant(e) = first.entry(id) {
                    e.insert(i);
                    named(&id);
                }
            }
        }
        at = i + 1;
    }
    end.max(from)
}

/// Takes the manifest as [`ssmlog_state::write_manifest`] writes it and, when `wanted`
/// accounts are given, stops the write once each of them has been named.
struct ManifestReader {
    text: Vec<u8>,
    scanned: usize,
    first: HashMap<[u8; 12], usize>,
    wanted: Option<HashSet<[u8; 12]>>,
}

impl std::io::Write for ManifestReader {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        if let Some(wanted) = &mut self.wanted {
            self.scanned = scan_mentions(&self.text, self.scanned, &mut self.first, |id| {
                wanted.remove(id);
            });
            if wanted.is_empty() {
                return Err(std::io::Error::other("every account is named"));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The deepest node a JSON path (`Statement[2].Condition.StringLike.s3:prefix`, `bucket`)
/// reaches. Member names may hold `.` or `:`: the longest one that fits is taken.
fn find<'j>(root: &'j Json, path: &str) -> Option<&'j Json> {
    let mut node = root;
    let mut rest = path;
    let mut reached = false;
    loop {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if rest.is_empty() {
            return Some(node);
        }
        if let Some(after) = rest.strip_prefix('[') {
            let (index, tail) = after.split_once(']')?;
            let i: usize = index.parse().ok()?;
            match &node.kind {
                JsonKind::Array(items) => match items.get(i) {
                    Some(n) => node = n,
                    None => return reached.then_some(node),
                },
                _ => return reached.then_some(node),
            }
            rest = tail;
            reached = true;
            continue;
        }
        let Some(members) = node.as_object() else {
            return reached.then_some(node);
        };
        let next = members
            .iter()
            .filter(|m| {
                rest.strip_prefix(m.key.as_str())
                    .is_some_and(|t| t.is_empty() || t.starts_with(['.', '[']))
            })
            .max_by_key(|m| m.key.len());
        match next {
            Some(m) => {
                rest = &rest[m.key.len()..];
                node = &m.value;
                reached = true;
            }
            None => return reached.then_some(node),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_reach_the_deepest_node() {
        let text = "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\"},\n    {\"Condition\": {\"StringLike\": {\"kms:EncryptionContext:aws:s3:arn\": \"x\"}}}\n  ]\n}";
        let root = json::parse(text).unwrap();
        let at = |p: &str| find(&root, p).map(|n| json::line_col(text, n.span.start));
        assert_eq!(at("Statement[0]"), Some((3, 5)));
        assert_eq!(at("Statement[0].Effect"), Some((3, 16)));
        assert_eq!(
            at("Statement[1].Condition.StringLike.kms:EncryptionContext:aws:s3:arn"),
            Some((4, 71))
        );
        // A path that goes further than the document stops at the deepest node.
        assert_eq!(at("Statement[1].Condition.Bool"), Some((4, 19)));
        assert_eq!(at("Nope"), None);
    }
}
