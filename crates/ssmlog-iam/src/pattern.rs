//! Wildcard patterns (`*`, `?`) as IAM uses them in actions, resources and `*Like` operators.

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Text that must match exactly.
    Lit(String),
    /// `*`: any run of characters, also none.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compiles `text`, where every `*` and `?` is a wildcard.
    pub(crate) fn wildcard(text: &str) -> Self {
        let mut b = PatternBuilder::default();
        b.push_wild(text);
        b.build()
    }

    /// Matches the whole of `s`.
    pub(crate) fn matches(&self, s: &str) -> bool {
        match self.tokens.as_slice() {
            [Token::Lit(l)] => l == s,
            [Token::Star] => true,
            [Token::Lit(l), Token::Star] => s.starts_with(l.as_str()),
            tokens => match_tokens(tokens, s),
        }
    }
}

/// Builds a pattern from literal and wildcard pieces, as policy variables produce.
#[derive(Default)]
pub(crate) struct PatternBuilder {
    tokens: Vec<Token>,
}

impl PatternBuilder {
    /// Appends text taken literally (a resolved variable, an escape like `${*}`).
    pub(crate) fn push_lit(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Token::Lit(l)) = self.tokens.last_mut() {
            l.push_str(s);
        } else {
            self.tokens.push(Token::Lit(s.to_string()));
        }
    }

    /// Appends text in which `*` and `?` are wildcards.
    pub(crate) fn push_wild(&mut self, s: &str) {
        let mut lit = String::new();
        for c in s.chars() {
            match c {
                '*' | '?' => {
                    if !lit.is_empty() {
                        self.push_lit(&lit);
                        lit.clear();
                    }
                    let t = if c == '*' { Token::Star } else { Token::One };
                    // `**` means the same as `*`; folding keeps matching linear.
                    if !(t == Token::Star && self.tokens.last() == Some(&Token::Star)) {
                        self.tokens.push(t);
                    }
                }
                _ => lit.push(c),
            }
        }
        self.push_lit(&lit);
    }

    pub(crate) fn build(self) -> Pattern {
        Pattern {
            tokens: self.tokens,
        }
    }
}

/// Classic wildcard matching with one backtrack point per `*` (linear in practice).
fn match_tokens(tokens: &[Token], s: &str) -> bool {
    let mut ti = 0; // token index
    let mut si = 0; // byte index into s
    let mut star: Option<(usize, usize)> = None; // (token after star, s position to retry)
    loop {
        if ti < tokens.len() {
            match &tokens[ti] {
                Token::Star => {
                    star = Some((ti + 1, si));
                    ti += 1;
                    continue;
                }
                Token::Lit(l) => {
                    if s[si..].starts_with(l.as_str()) {
                        si += l.len();
                        ti += 1;
                        continue;
                    }
                }
                Token::One => {
                    if let Some(c) = s[si..].chars().next() {
                        si += c.len_utf8();
                        ti += 1;
                        continue;
                    }
                }
            }
        } else if si == s.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more character, or fail.
        match star {
            Some((after, retry)) => match s[retry..].chars().next() {
                Some(c) => {
                    let next = retry + c.len_utf8();
                    star = Some((after, next));
                    ti = after;
                    si = next;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::wildcard(p).matches(s)
    }

    #[test]
    fn wildcards_match_as_iam_documents() {
        assert!(m("*", ""));
        assert!(m("s3:Put*", "s3:PutObject"));
        assert!(m("s3:*Object", "s3:PutObject"));
        assert!(!m("s3:*Object", "s3:PutObjectAcl"));
        assert!(m("s3:Put?bject", "s3:PutObject"));
        assert!(!m("s3:Put?bject", "s3:Putbject"));
        assert!(m("a*b*c", "a_b_b_c"));
        assert!(!m("a*b*c", "a_b_b_"));
        assert!(m("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y.log"));
        assert!(m("arn:aws:kms:*:1:key/*", "arn:aws:kms:eu-west-1:1:key/k"));
        assert!(m("??", "éa"));
        assert!(!m("abc", "ab"));
        assert!(m("**a", "ba"));
    }

    #[test]
    fn literal_pieces_do_not_act_as_wildcards() {
        let mut b = PatternBuilder::default();
        b.push_wild("arn:aws:s3:::b/");
        b.push_lit("my*file");
        let p = b.build();
        assert!(p.matches("arn:aws:s3:::b/my*file"));
        assert!(!p.matches("arn:aws:s3:::b/myXfile"));
    }
}
