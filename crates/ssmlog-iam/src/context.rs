//! The request context: condition keys and their values, looked up case-insensitively.

use std::collections::HashMap;

/// Condition keys of one request. Keys are stored lowercased: AWS compares key names
/// case-insensitively. Every key holds a list; a single-valued key holds one value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: HashMap<String, Vec<String>>,
}

impl Context {
    /// Sets `key` (any case) to `values`, replacing what was there.
    pub fn insert(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(key.to_ascii_lowercase(), values);
    }

    /// Sets `key` only when the caller has not set it already.
    pub(crate) fn insert_default(&mut self, key: &str, values: Vec<String>) {
        self.keys.entry(key.to_ascii_lowercase()).or_insert(values);
    }

    /// The values of an already-lowercased key.
    pub fn get(&self, lower_key: &str) -> Option<&[String]> {
        self.keys.get(lower_key).map(Vec::as_slice)
    }

    /// All keys (lowercased) and values, sorted, for explanations.
    pub fn entries(&self) -> Vec<(&str, &[String])> {
        let mut v: Vec<_> = self
            .keys
            .iter()
            .map(|(k, vs)| (k.as_str(), vs.as_slice()))
            .collect();
        v.sort();
        v
    }
}
