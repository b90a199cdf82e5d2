//! Policy variables (`${aws:PrincipalAccount}`, `${aws:username, 'none'}`, `${*}`) in
//! resources and condition values, resolved against the request context.

use std::borrow::Cow;

use crate::context::Context;
use crate::pattern::{Pattern, PatternBuilder};

/// A policy string that may hold variables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    /// The text as written.
    pub(crate) raw: String,
    parts: Vec<Part>,
    /// For a template without variables: its wildcard pattern, compiled once.
    fixed_pattern: Option<Pattern>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Policy text: `*` and `?` in it are wildcards where the element allows them.
    Text(String),
    /// `${*}`, `${?}`, `${$}`: the character itself, never a wildcard.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`; the key lowercased for lookup.
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A `${` that does not form a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) message: String,
}

impl Template {
    /// Reads `raw`; with `variables` false (policy version 2008-10-17 or none) `${...}` is text.
    pub(crate) fn parse(raw: &str, variables: bool) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = raw;
        while let Some(i) = rest.find("${").filter(|_| variables) {
            text.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let close = after.find('}').ok_or_else(|| TemplateError {
                message: format!("`${{` without a closing `}}` in `{raw}`"),
            })?;
            let inner = after[..close].trim();
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(parse_var(inner, raw)?);
            rest = &after[close + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        let mut t = Template {
            raw: raw.to_string(),
            parts,
            fixed_pattern: None,
        };
        if !t.has_variables() {
            t.fixed_pattern = t.pattern(&Context::default());
        }
        Ok(t)
    }

    /// Does the value depend on the request?
    pub(crate) fn has_variables(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var { .. }))
    }

    /// The literal string (wildcards kept as characters); `None` when a variable has no
    /// single value and no default.
    pub(crate) fn resolve<'t>(&'t self, ctx: &Context) -> Option<Cow<'t, str>> {
        match self.parts.as_slice() {
            [] => Some(Cow::Borrowed("")),
            [Part::Text(t)] => Some(Cow::Borrowed(t)),
            parts => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => out.push_str(t),
                        Part::Escaped(c) => out.push(*c),
                        Part::Var { key, default } => out.push_str(lookup(ctx, key, default)?),
                    }
                }
                Some(Cow::Owned(out))
            }
        }
    }

    /// The wildcard pattern: text wildcards act, resolved values and escapes are literal.
    pub(crate) fn pattern(&self, ctx: &Context) -> Option<Pattern> {
        if let Some(p) = &self.fixed_pattern {
            return Some(p.clone());
        }
        let mut b = PatternBuilder::default();
        for p in &self.parts {
            match p {
                Part::Text(t) => b.push_wild(t),
                Part::Escaped(c) => b.push_lit(c.encode_utf8(&mut [0; 4])),
                Part::Var { key, default } => b.push_lit(lookup(ctx, key, default)?),
            }
        }
        Some(b.build())
    }

    /// Matches `s` as a wildcard pattern without cloning a fixed pattern.
    pub(crate) fn matches(&self, ctx: &Context, s: &str) -> bool {
        match &self.fixed_pattern {
            Some(p) => p.matches(s),
            None => self.pattern(ctx).is_some_and(|p| p.matches(s)),
        }
    }
}

fn lookup<'c>(ctx: &'c Context, key: &str, default: &'c Option<String>) -> Option<&'c str> {
    match ctx.get(key) {
        Some([one]) => Some(one.as_str()),
        _ => default.as_deref(),
    }
}

fn parse_var(inner: &str, raw: &str) -> Result<Part, TemplateError> {
    match inner {
        "*" => return Ok(Part::Escaped('*')),
        "?" => return Ok(Part::Escaped('?')),
        "$" => return Ok(Part::Escaped('$')),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .ok_or_else(|| TemplateError {
                    message: format!(
                        "the default in `${{{inner}}}` must be in single quotes, as in `${{aws:username, 'none'}}`"
                    ),
                })?;
            (k.trim(), Some(d.to_string()))
        }
        None => (inner, None),
    };
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/_-.@+=".contains(c));
    if !valid {
        return Err(TemplateError {
            message: format!("`${{{inner}}}` in `{raw}` is not a policy variable"),
        });
    }
    Ok(Part::Var {
        key: key.to_ascii_lowercase(),
        default,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let mut c = Context::default();
        c.insert("aws:PrincipalAccount", vec!["222233334444".into()]);
        c.insert("aws:PrincipalTag/team", vec!["ops".into()]);
        c.insert("multi", vec!["a".into(), "b".into()]);
        c
    }

    #[test]
    fn resolves_variables_case_insensitively() {
        let t = Template::parse("arn:aws:s3:::b/${aws:principalaccount}/*", true).unwrap();
        assert_eq!(t.resolve(&ctx()).unwrap(), "arn:aws:s3:::b/222233334444/*");
        assert!(t.matches(&ctx(), "arn:aws:s3:::b/222233334444/x.log"));
        assert!(!t.matches(&ctx(), "arn:aws:s3:::b/333344445555/x.log"));
    }

    #[test]
    fn missing_or_multivalued_variables_use_the_default_or_fail() {
        let t = Template::parse("${aws:username, 'nobody'}", true).unwrap();
        assert_eq!(t.resolve(&ctx()).unwrap(), "nobody");
        assert!(Template::parse("${aws:username}", true)
            .unwrap()
            .resolve(&ctx())
            .is_none());
        assert!(Template::parse("${multi}", true)
            .unwrap()
            .resolve(&ctx())
            .is_none());
    }

    #[test]
    fn escapes_are_literal_characters() {
        let t = Template::parse("a${*}b", true).unwrap();
        assert_eq!(t.resolve(&ctx()).unwrap(), "a*b");
        assert!(t.matches(&ctx(), "a*b"));
        assert!(!t.matches(&ctx(), "axb"));
    }

    #[test]
    fn old_version_keeps_text() {
        let t = Template::parse("${aws:username}", false).unwrap();
        assert_eq!(t.resolve(&ctx()).unwrap(), "${aws:username}");
    }

    #[test]
    fn malformed_variables_are_errors() {
        assert!(Template::parse("a${b", true).is_err());
        assert!(Template::parse("${a b}", true).is_err());
        assert!(Template::parse("${aws:username, nobody}", true).is_err());
    }
}
