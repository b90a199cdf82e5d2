//! Object keys: where the agent puts a session log and what the key says about it.
//!
//! The agent uploads `<s3KeyPrefix>/<sessionId>.log` (an empty prefix gives `<sessionId>.log`).
//! ssmlog's hardened layout uses the prefix `<account-id>/<region>`; other schemes
//! (`ssm/<account>/...`, `AWSLogs/<account>/<region>/...`, no prefix at all) are read by looking
//! for a 12-digit account segment and a region-shaped segment anywhere in the prefix.

use serde::Serialize;

/// What a log's key tells: enough to list, filter and name a session without reading it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionKey {
    /// The whole object key (or path relative to a local copy's root, with `/`).
    pub key: String,
    /// The prefix before the session id, without the trailing `/`.
    pub prefix: String,
    /// The 12-digit account id found in the prefix.
    pub account: Option<String>,
    /// The region found in the prefix (`us-east-1`, `us-gov-west-1`, ...).
    pub region: Option<String>,
    /// The session id: the file name without `.log`.
    pub session: String,
    /// The principal that started the session: the session id before its last `-<hex>`.
    pub user: Option<String>,
}

/// Whether a segment is an AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a segment looks like a region code: `xx-name-N`, `xx-gov-name-N`, `xx-iso[b]-name-N`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if !(3..=4).contains(&parts.len()) {
        return false;
    }
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let first_ok = parts.first().is_some_and(|p| p.len() == 2 && lower(p));
    let last_ok = parts
        .last()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let middle_ok = parts
        .get(1..parts.len() - 1)
        .is_some_and(|m| m.iter().all(|p| lower(p)));
    first_ok && middle_ok && last_ok
}

/// The user part of a session id (`alice@example.com-0a1b2c3d4e5f67890` gives
/// `alice@example.com`): everything before the last `-` when what follows is hex of at least
/// 8 digits; `None` when the id has no such suffix.
pub fn user_of_session(session: &str) -> Option<&str> {
    let (user, hex) = session.rsplit_once('-')?;
    (hex.len() >= 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && !user.is_empty())
        .then_some(user)
}

/// Reads a key; `None` for objects that are not session logs (no `.log` suffix, empty name).
pub fn parse_key(key: &str) -> Option<SessionKey> {
    let (prefix, file) = match key.rsplit_once('/') {
        Some((p, f)) => (p, f),
        None => ("", key),
    };
    let session = file.strip_suffix(".log")?;
    if session.is_empty() {
        return None;
    }
    let segments: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
    let account = segments.iter().rev().find(|s| is_account_id(s));
    let region = segments.iter().rev().find(|s| is_region(s));
    Some(SessionKey {
        key: key.to_string(),
        prefix: prefix.trim_end_matches('/').to_string(),
        account: account.map(|s| s.to_string()),
        region: region.map(|s| s.to_string()),
        session: session.to_string(),
        user: user_of_session(session).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hardened_layout() {
        let k = parse_key("222233334444/eu-west-1/alice-0a1b2c3d4e5f67890.log").unwrap();
        assert_eq!(k.account.as_deref(), Some("222233334444"));
        assert_eq!(k.region.as_deref(), Some("eu-west-1"));
        assert_eq!(k.session, "alice-0a1b2c3d4e5f67890");
        assert_eq!(k.user.as_deref(), Some("alice"));
        assert_eq!(k.prefix, "222233334444/eu-west-1");
    }

    #[test]
    fn seed_layout_and_user_names_with_dashes() {
        let k = parse_key("jane.doe@example.com-ops-admin-0123456789abcdef0.log").unwrap();
        assert_eq!(k.account, None);
        assert_eq!(k.region, None);
        assert_eq!(k.prefix, "");
        assert_eq!(k.user.as_deref(), Some("jane.doe@example.com-ops-admin"));
    }

    #[test]
    fn other_prefix_schemes() {
        let k =
            parse_key("AWSLogs/123456789012/ssm/us-gov-west-1/bob-0123456789abcdef0.log").unwrap();
        assert_eq!(k.account.as_deref(), Some("123456789012"));
        assert_eq!(k.region.as_deref(), Some("us-gov-west-1"));
        let k = parse_key("logs/i-0abc/session.log").unwrap();
        assert_eq!((k.account, k.region, k.user), (None, None, None));
        assert!(parse_key("123456789012/us-east-1/readme.txt").is_none());
        assert!(parse_key("123456789012/.log").is_none());
        assert!(!is_region("i-0abc"));
        assert!(is_region("ap-southeast-2"));
    }
}
