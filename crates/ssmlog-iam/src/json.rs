//! A JSON reader that keeps byte spans, so every policy error can point at line and column.
//!
//! serde_json drops positions once a value is built; policy validation needs them for
//! each element, so policies are read here first and turned into typed values afterwards.

use std::fmt;

/// Byte range of a value in its source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A JSON value with the span it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    /// The value.
    pub kind: JsonKind,
    /// Where it stands in the source.
    pub span: Span,
}

/// The JSON value kinds; numbers keep their source text so nothing is lost to floats.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in source order (duplicates kept so they can be reported).
    Object(Vec<Member>),
}

/// One `"key": value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The key, unescaped.
    pub key: String,
    /// Span of the key string.
    pub key_span: Span,
    /// The value.
    pub value: Json,
}

/// A syntax error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

/// Nesting deeper than this is rejected, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

/// Parses one JSON document (surrounding whitespace allowed, nothing else).
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut p = Parser {
        src: text.as_bytes(),
        text,
        pos: 0,
    };
    // A byte-order mark is common in files saved by Windows editors.
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.src.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> JsonError {
        JsonError {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        let start = self.pos;
        let kind = match self.peek() {
            None => return Err(self.err("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonKind::String(self.string()?),
            Some(b't') => self.literal("true", JsonKind::Bool(true))?,
            Some(b'f') => self.literal("false", JsonKind::Bool(false))?,
            Some(b'n') => self.literal("null", JsonKind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b'\'') => return Err(self.err("strings must use double quotes")),
            Some(_) => return Err(self.err("expected a value")),
        };
        Ok(Json {
            kind,
            span: Span {
                start,
                end: self.pos,
            },
        })
    }

    fn literal(&mut self, word: &str, kind: JsonKind) -> Result<JsonKind, JsonError> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn number(&mut self) -> Result<JsonKind, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number: digits expected after `.`"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number: digits expected in exponent"));
            }
            self.digits();
        }
        Ok(JsonKind::Number(self.text[start..self.pos].to_string()))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let run = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // `run..pos` holds no quote, backslash or control byte, and starts and ends on
            // ASCII or end of text, so it is whole UTF-8 characters of the input.
            out.push_str(&self.text[run..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.err("control character in string: escape it")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
        self.pos += 1;
        match c {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = self.hex4()?;
                let ch = if (0xD800..0xDC00).contains(&hi) {
                    if self.src[self.pos..].starts_with(b"\\u") {
                        self.pos += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(self.err("invalid low surrogate in \\u escape"));
                        }
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        None
                    }
                } else {
                    char::from_u32(hi)
                };
                out.push(ch.ok_or_else(|| self.err("invalid \\u escape (lone surrogate)"))?);
            }
            _ => {
                self.pos -= 1;
                return Err(self.err("invalid escape in string"));
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape: four hex digits expected")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<JsonKind, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(JsonKind::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        return Err(self.err("trailing comma before `]`"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonKind::Array(items));
                }
                _ => return Err(self.err("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonKind, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(JsonKind::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a double-quoted key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span {
                start: key_start,
                end: self.pos,
            };
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected `:` after the key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        return Err(self.err("trailing comma before `}`"));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonKind::Object(members));
                }
                _ => return Err(self.err("expected `,` or `}` in object")),
            }
        }
    }
}

impl Json {
    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            JsonKind::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The first member named `key` (exact case).
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.as_object()?
            .iter()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// A short name of the kind, for messages ("a string", "an array").
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }

    /// The same value as a `serde_json::Value` (later duplicate keys win, as in serde_json).
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            JsonKind::Null => Value::Null,
            JsonKind::Bool(b) => Value::Bool(*b),
            JsonKind::Number(n) => serde_json::from_str(n).unwrap_or(Value::Null),
            JsonKind::String(s) => Value::String(s.clone()),
            JsonKind::Array(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            JsonKind::Object(m) => Value::Object(
                m.iter()
                    .map(|m| (m.key.clone(), m.value.to_value()))
                    .collect(),
            ),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset. Scans from the start: for many
/// positions in one text, use [`LineStarts`].
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Where each line of a text starts, so that many positions in one text (the findings in a
/// large State file, the diagnostics of a long request file) cost a binary search each
/// instead of a scan from the start.
#[derive(Debug, Clone)]
pub struct LineStarts(Vec<usize>);

impl LineStarts {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        LineStarts(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// The 0-based line holding byte `offset`, and that line's first byte.
    pub fn line_of(&self, offset: usize) -> (usize, usize) {
        let line = self.0.partition_point(|&s| s <= offset).saturating_sub(1);
        (line, self.0.get(line).copied().unwrap_or(0))
    }

    /// What [`line_col`] gives for `offset` in the indexed `text`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let (line, start) = self.line_of(offset);
        let column = text.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        (line + 1, column)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The index gives what the scan from the start gives, at every offset.
    #[test]
    fn line_starts_agree_with_line_col() {
        let text = "{\n  \"a\": \"é\",\n\n  \"b\": [1,\n 2]\n}";
        let index = LineStarts::new(text);
        for offset in 0..=text.len() + 2 {
            if text.is_char_boundary(offset.min(text.len())) {
                assert_eq!(
                    index.line_col(text, offset),
                    line_col(text, offset),
                    "{offset}"
                );
            }
        }
    }

    #[test]
    fn reads_nested_values_with_spans() {
        let text = r#" {"a": [1, -2.5e3, "x\u00e9\n"], "b": {"c": null, "d": true}} "#;
        let v = parse(text).unwrap();
        let a = v.get("a").unwrap();
        assert_eq!(
            &text[a.span.start..a.span.end],
            r#"[1, -2.5e3, "x\u00e9\n"]"#
        );
        match &a.kind {
            JsonKind::Array(items) => {
                assert_eq!(items[1].kind, JsonKind::Number("-2.5e3".into()));
                assert_eq!(items[2].as_str(), Some("xé\n"));
            }
            _ => unreachable!(),
        }
        assert_eq!(
            v.get("b").unwrap().get("d").unwrap().kind,
            JsonKind::Bool(true)
        );
    }

    #[test]
    fn keeps_duplicate_keys_for_reporting() {
        let v = parse(r#"{"Effect":"Allow","Effect":"Deny"}"#).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 2);
        assert_eq!(v.to_value()["Effect"], "Deny");
    }

    #[test]
    fn rejects_malformed_input_with_offsets() {
        for (text, offset, msg) in [
            ("{\"a\": 1,}", 8, "trailing comma"),
            ("[1 2]", 3, "expected `,` or `]`"),
            ("{'a': 1}", 1, "double-quoted key"),
            ("\"abc", 4, "unterminated"),
            ("01", 1, "after the JSON value"),
            ("[\"\\ud800\"]", 8, "lone surrogate"),
            ("", 0, "end of input"),
            ("1.", 2, "digits expected"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.offset, offset, "{text}: {e}");
            assert!(e.message.contains(msg), "{text}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).unwrap_err().message.contains("deeply"));
    }

    #[test]
    fn surrogate_pairs_decode() {
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap().as_str(), Some("😀"));
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "{\n  \"é\": x}";
        assert_eq!(line_col(text, text.find('x').unwrap()), (2, 8));
        assert_eq!(line_col(text, 0), (1, 1));
    }
}
