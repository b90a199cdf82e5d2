//! Byte-stable JSON: object keys sorted, two-space indent, trailing newline.
//!
//! The same State must always give the same bytes, so a State directory diffs cleanly in
//! git and snapshot tests can compare bytes.

use serde::Serialize;
use serde_json::{Map, Value};

/// Returns `value` with every object's keys sorted (arrays keep their order).
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::with_capacity(map.len());
            for k in keys {
                if let Some(v) = map.get(k) {
                    out.insert(k.clone(), sorted(v));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Sorts every object's keys in place (arrays keep their order): [`sorted`] without the
/// copy, for values built only to be written (a manifest of 170,000 VPCs spent most of its
/// serialisation in that copy).
pub fn sort_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_in_place);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_in_place),
        _ => {}
    }
}

/// Serialises `value` canonically: sorted keys, pretty, `\n` at the end.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut v = serde_json::to_value(value)?;
    sort_in_place(&mut v);
    let mut out = serde_json::to_vec_pretty(&v)?;
    out.push(b'\n');
    Ok(out)
}

/// [`to_vec`] as a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut v = serde_json::to_value(value)?;
    sort_in_place(&mut v);
    let mut out = serde_json::to_string_pretty(&v)?;
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_arrays_keep_order() {
        let v = json!({"b": 1, "a": {"z": [3, 1], "y": {"d": 0, "c": 0}}});
        let s = to_string(&v).unwrap_or_default();
        assert_eq!(
            s.trim_end(),
            serde_json::to_string_pretty(&sorted(&v)).unwrap_or_default()
        );
        assert_eq!(
            s,
            "{\n  \"a\": {\n    \"y\": {\n      \"c\": 0,\n      \"d\": 0\n    },\n    \"z\": [\n      3,\n      1\n    ]\n  },\n  \"b\": 1\n}\n"
        );
    }
}
