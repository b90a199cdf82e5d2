//! Every finding gets a place in the State files that decides it (file, line, column), so
//! code scanning can show it: the deciding statement for a proof, the preferences document
//! for a region, the manifest (`state.json`) for what lives there.
//!
//! The files are the ones `ssmlog render`/`pull` write (`ssmlog_state::to_files`, canonical
//! text), so the lines are those of the State directory.

use std::collections::HashMap;
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
    let Ok(files) = ssmlog_state::to_files(state) else {
        return;
    };
    // Each file is parsed once, when a finding first points into it.
    let mut parsed: HashMap<String, Option<Rc<(String, Json)>>> = HashMap::new();
    let mut doc = |file: &str| -> Option<Rc<(String, Json)>> {
        parsed
            .entry(file.to_string())
            .or_insert_with(|| {
                let text = String::from_utf8(files.get(file)?.clone()).ok()?;
                let node = json::parse(&text).ok()?;
                Some(Rc::new((text, node)))
            })
            .clone()
    };
    for f in findings.iter_mut() {
        if f.line.is_some() && f.column.is_some() {
            continue;
        }
        // Which file: the finding's, else the deciding statement's policy, else the
        // region's preferences, else the manifest.
        if f.file.is_none() {
            f.file = f
                .statements
                .iter()
                .map(|s| s.policy.clone())
                .find(|p| doc(p).is_some())
                .or_else(|| match (&f.account, &f.region) {
                    (Some(a), Some(r)) => {
                        Some(layout::preferences(a, r)).filter(|p| doc(p).is_some())
                    }
                    _ => None,
                })
                .or_else(|| Some(layout::MANIFEST.to_string()));
        }
        let Some(file) = f.file.clone() else {
            continue;
        };
        let Some(parsed) = doc(&file) else {
            continue;
        };
        let (text, root) = (&parsed.0, &parsed.1);
        if f.json_path.is_none() {
            f.json_path = f.statements.iter().find(|s| s.policy == file).map(|s| {
                match root.get("Statement").map(|n| &n.kind) {
                    Some(JsonKind::Array(_)) => format!("Statement[{}]", s.index),
                    _ => "Statement".to_string(),
                }
            });
        }
        let node = match &f.json_path {
            Some(p) => find(root, p),
            None => None,
        };
        let offset = node
            .map(|n| n.span.start)
            .or_else(|| {
                // The account's first mention, for findings about an account.
                f.account
                    .as_ref()
                    .and_then(|a| text.find(&format!("\"{a}\"")))
            })
            .unwrap_or(0);
        let (line, column) = json::line_col(text, offset);
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
