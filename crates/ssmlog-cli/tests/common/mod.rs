//! Reading ssmlog's JSON output in tests: every document and JSON Lines record carries a
//! `schemaVersion` (docs/json-output.md), checked here and taken off, so the rest is read
//! into the crate's own types with unknown fields denied.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

use serde::de::DeserializeOwned;
use serde_json::Value;

/// `text` (one JSON document) read as `T`, after checking its `schemaVersion` is `schema`.
pub fn unversioned<T: DeserializeOwned>(text: &str, schema: &str) -> T {
    let mut v: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let got = v
        .as_object_mut()
        .and_then(|o| o.shift_remove("schemaVersion"));
    assert_eq!(got.as_ref().and_then(Value::as_str), Some(schema), "{text}");
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Each line of JSON Lines `text` read as `T` (see [`unversioned`]).
pub fn unversioned_lines<T: DeserializeOwned>(text: &str, schema: &str) -> Vec<T> {
    text.lines().map(|l| unversioned(l, schema)).collect()
}
