//! The request context: condition keys and their values, looked up case-insensitively.

/// Condition keys of one request. Keys are stored lowercased: AWS compares key names
/// case-insensitively. Every key holds a list; a single-valued key holds one value.
///
/// A request has a dozen keys or so and is built once for a few lookups, so they are kept in
/// a list, not a hash map: no hashing, and no allocation for a key set twice.
#[derive(Debug, Clone, Default)]
pub struct Context {
    keys: Vec<(String, Vec<String>)>,
}

impl Context {
    fn position(&self, key: &str) -> Option<usize> {
        self.keys
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    /// Sets `key` (any case) to `values`, replacing what was there.
    pub fn insert(&mut self, key: &str, values: Vec<String>) {
        match self.position(key) {
            Some(i) => self.keys[i].1 = values,
            None => self.keys.push((key.to_ascii_lowercase(), values)),
        }
    }

    /// Sets `key` only when the caller has not set it already.
    pub(crate) fn insert_default(&mut self, key: &str, values: Vec<String>) {
        if self.position(key).is_none() {
            self.keys.push((key.to_ascii_lowercase(), values));
        }
    }

    /// The values of an already-lowercased key.
    pub fn get(&self, lower_key: &str) -> Option<&[String]> {
        self.keys
            .iter()
            .find(|(k, _)| k == lower_key)
            .map(|(_, v)| v.as_slice())
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

/// Two contexts are equal when they hold the same keys with the same values, in any order.
impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.keys.len() == other.keys.len() && self.entries() == other.entries()
    }
}

impl Eq for Context {}
