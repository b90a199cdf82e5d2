//! Principals: how policies name them, who makes a request, and how the two match.

/// One principal named in a Principal or NotPrincipal element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    Any,
    /// An account id or `arn:aws:iam::ID:root`: the account, which delegates to its IAM.
    Account(String),
    /// An IAM user: (account, name).
    User(String, String),
    /// An IAM role: (account, name without path); covers every session of the role.
    Role(String, String),
    /// One role session: the full `arn:aws:sts::…:assumed-role/ROLE/SESSION`.
    Session(String),
    /// Another ARN (federated user and the like), matched exactly.
    OtherArn(String),
    /// A service principal such as `s3.amazonaws.com`.
    Service(String),
    /// A `Federated` or `CanonicalUser` principal; requests in this engine never carry one.
    Foreign(String),
}

/// Why a principal string is invalid.
pub(crate) struct PrincipalError {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}

impl PrincipalEntry {
    pub(crate) fn parse(kind: &str, s: &str) -> Result<Self, PrincipalError> {
        match kind {
            "AWS" => parse_aws(s),
            "Service" => {
                if s.contains('*') {
                    return Err(PrincipalError {
                        message: format!("wildcards are not allowed in a service principal: `{s}`"),
                        help: Some("name the service, for example `s3.amazonaws.com`".into()),
                    });
                }
                Ok(PrincipalEntry::Service(s.to_string()))
            }
            _ => Ok(PrincipalEntry::Foreign(s.to_string())),
        }
    }
}

fn parse_aws(s: &str) -> Result<PrincipalEntry, PrincipalError> {
    if s == "*" {
        return Ok(PrincipalEntry::Any);
    }
    if is_account_id(s) {
        return Ok(PrincipalEntry::Account(s.to_string()));
    }
    let bad = |why: &str| PrincipalError {
        message: format!("`{s}` is not a valid AWS principal: {why}"),
        help: Some("use `*`, a 12-digit account id, or an IAM user, role or root ARN".into()),
    };
    if s.contains('*') || s.contains('?') {
        return Err(PrincipalError {
            message: format!("wildcards are not allowed in Principal ARNs: `{s}`"),
            help: Some(
                "use `\"AWS\": \"*\"` with a Condition on `aws:PrincipalArn` (ArnLike) instead"
                    .into(),
            ),
        });
    }
    let Some([_, _, service, _, account, resource]) = crate::condition::split_arn(s) else {
        return Err(bad("not an ARN"));
    };
    if !is_account_id(account) {
        return Err(bad("the account must be 12 digits"));
    }
    match (service, resource.split_once('/')) {
        ("iam", None) if resource == "root" => Ok(PrincipalEntry::Account(account.to_string())),
        ("iam", Some(("user", rest))) if !rest.is_empty() => Ok(PrincipalEntry::User(
            account.to_string(),
            rest.rsplit('/').next().unwrap_or(rest).to_string(),
        )),
        ("iam", Some(("role", rest))) if !rest.is_empty() => Ok(PrincipalEntry::Role(
            account.to_string(),
            rest.rsplit('/').next().unwrap_or(rest).to_string(),
        )),
        ("sts", Some(("assumed-role", rest))) if rest.contains('/') => {
            Ok(PrincipalEntry::Session(s.to_string()))
        }
        ("iam" | "sts", Some(_)) => Ok(PrincipalEntry::OtherArn(s.to_string())),
        _ => Err(bad("only iam and sts ARNs name principals")),
    }
}

pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Who makes a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPrincipal {
    /// What kind of caller it is.
    pub kind: CallerKind,
    /// The caller's account (none for services and anonymous callers).
    pub account: Option<String>,
    /// The ARN as AWS shows it for the caller (the session ARN for a role).
    pub arn: String,
    /// The value of `aws:PrincipalArn` (the role ARN for a role session).
    pub principal_arn: String,
}

/// The kinds of caller the engine knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// The account root user.
    Root,
    /// An IAM user, by name.
    User(String),
    /// A session of an IAM role: role name and session name.
    RoleSession {
        /// Role name, without path.
        role: String,
        /// Session name.
        session: String,
    },
    /// A federated user (`sts:GetFederationToken`).
    FederatedUser,
    /// An AWS service principal.
    Service(String),
    /// No credentials at all.
    Anonymous,
}

impl RequestPrincipal {
    /// Reads the `principal.arn` of the request form.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "anonymous" || s == "*" {
            return Ok(RequestPrincipal {
                kind: CallerKind::Anonymous,
                account: None,
                arn: "anonymous".into(),
                principal_arn: "anonymous".into(),
            });
        }
        if !s.starts_with("arn:") && s.ends_with(".amazonaws.com") {
            return Ok(RequestPrincipal {
                kind: CallerKind::Service(s.to_string()),
                account: None,
                arn: s.to_string(),
                principal_arn: s.to_string(),
            });
        }
        let Some([_, partition, service, _, account, resource]) = crate::condition::split_arn(s)
        else {
            return Err(format!(
                "`{s}` is not a principal: use an IAM or STS ARN, a service principal such as `s3.amazonaws.com`, or `anonymous`"
            ));
        };
        if !is_account_id(account) {
            return Err(format!("`{s}`: the account must be 12 digits"));
        }
        let account = account.to_string();
        let (kind, arn, principal_arn) = match (service, resource.split_once('/')) {
            ("iam", None) if resource == "root" => (CallerKind::Root, s.to_string(), s.to_string()),
            ("iam", Some(("user", rest))) if !rest.is_empty() => {
                let name = rest.rsplit('/').next().unwrap_or(rest).to_string();
                (CallerKind::User(name), s.to_string(), s.to_string())
            }
            ("iam", Some(("role", rest))) if !rest.is_empty() => {
                let role = rest.rsplit('/').next().unwrap_or(rest).to_string();
                let session = "session".to_string();
                let arn = format!("arn:{partition}:sts::{account}:assumed-role/{role}/{session}");
                (
                    CallerKind::RoleSession { role, session },
                    arn,
                    s.to_string(),
                )
            }
            ("sts", Some(("assumed-role", rest))) => {
                let Some((role, session)) = rest.split_once('/') else {
                    return Err(format!("`{s}`: an assumed-role ARN ends in ROLE/SESSION"));
                };
                let principal_arn = format!("arn:{partition}:iam::{account}:role/{role}");
                let kind = CallerKind::RoleSession {
                    role: role.to_string(),
                    session: session.to_string(),
                };
                (kind, s.to_string(), principal_arn)
            }
            ("sts", Some(("federated-user", _))) => {
                (CallerKind::FederatedUser, s.to_string(), s.to_string())
            }
            _ => {
                return Err(format!(
                    "`{s}` is not a principal ARN: use root, user/…, role/… or assumed-role/…"
                ))
            }
        };
        Ok(RequestPrincipal {
            kind,
            account: Some(account),
            arn,
            principal_arn,
        })
    }

    /// A session of the role `role_arn` (path kept, so `aws:PrincipalArn` is exact).
    pub fn role_session(role_arn: &str, session: &str) -> Result<Self, String> {
        let mut p = Self::parse(role_arn)?;
        match &mut p.kind {
            CallerKind::RoleSession { role, session: s } if role_arn.contains(":role/") => {
                *s = session.to_string();
                let (account, partition) = (
                    p.account.clone().unwrap_or_default(),
                    role_arn.split(':').nth(1).unwrap_or("aws"),
                );
                p.arn = format!("arn:{partition}:sts::{account}:assumed-role/{role}/{session}");
                Ok(p)
            }
            _ => Err(format!("`{role_arn}` is not a role ARN")),
        }
    }

    /// `aws:PrincipalType` as AWS sets it.
    pub(crate) fn principal_type(&self) -> Option<&'static str> {
        Some(match self.kind {
            CallerKind::Root => "Account",
            CallerKind::User(_) => "User",
            CallerKind::RoleSession { .. } => "AssumedRole",
            CallerKind::FederatedUser => "FederatedUser",
            CallerKind::Anonymous => "Anonymous",
            CallerKind::Service(_) => return None,
        })
    }

    /// Is this an IAM identity whose own account's policies take part?
    pub fn is_iam(&self) -> bool {
        self.account.is_some()
    }
}

/// How a policy's Principal element matched the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalMatch {
    /// Through the account: in the same account this only delegates to IAM policies.
    Account,
    /// Through the role ARN: grants the role's sessions, within boundary and session policy.
    Role,
    /// `*`, or the exact user or session ARN: a grant to the caller itself.
    Direct,
}

impl PrincipalEntry {
    pub(crate) fn matches(&self, p: &RequestPrincipal) -> Option<PrincipalMatch> {
        let acct = p.account.as_deref();
        match self {
            PrincipalEntry::Any => Some(PrincipalMatch::Direct),
            PrincipalEntry::Account(a) => (acct == Some(a)).then_some(PrincipalMatch::Account),
            PrincipalEntry::User(a, n) => match &p.kind {
                CallerKind::User(u) if acct == Some(a) && u == n => Some(PrincipalMatch::Direct),
                _ => None,
            },
            PrincipalEntry::Role(a, n) => match &p.kind {
                CallerKind::RoleSession { role, .. } if acct == Some(a) && role == n => {
                    Some(PrincipalMatch::Role)
                }
                _ => None,
            },
            PrincipalEntry::Session(arn) | PrincipalEntry::OtherArn(arn) => {
                (p.arn == *arn || p.principal_arn == *arn).then_some(PrincipalMatch::Direct)
            }
            PrincipalEntry::Service(s) => match &p.kind {
                CallerKind::Service(c) if c == s => Some(PrincipalMatch::Direct),
                _ => None,
            },
            PrincipalEntry::Foreign(_) => None,
        }
    }
}

/// Is the caller excluded by a NotPrincipal list? AWS evaluates NotPrincipal against the
/// caller and, for IAM identities, its account too: only a caller whose own entry and
/// account are both listed is left out of the Deny.
pub(crate) fn excluded_by(entries: &[PrincipalEntry], p: &RequestPrincipal) -> bool {
    if entries.contains(&PrincipalEntry::Any) {
        return true;
    }
    let own = entries.iter().any(|e| {
        matches!(
            e.matches(p),
            Some(PrincipalMatch::Direct | PrincipalMatch::Role)
        )
    });
    match &p.account {
        None => own,
        Some(a) => {
            let account_listed = entries.contains(&PrincipalEntry::Account(a.clone()));
            if p.kind == CallerKind::Root {
                account_listed
            } else {
                own && account_listed
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(s: &str) -> PrincipalEntry {
        PrincipalEntry::parse("AWS", s).ok().unwrap()
    }

    #[test]
    fn account_forms_are_the_same_principal() {
        assert_eq!(
            entry("222233334444"),
            entry("arn:aws:iam::222233334444:root")
        );
    }

    #[test]
    fn a_role_arn_matches_its_sessions_and_paths_do_not_matter() {
        let p = RequestPrincipal::parse(
            "arn:aws:sts::222233334444:assumed-role/SSMInstanceRole/i-0abc",
        )
        .unwrap();
        assert_eq!(
            p.principal_arn,
            "arn:aws:iam::222233334444:role/SSMInstanceRole"
        );
        assert_eq!(
            entry("arn:aws:iam::222233334444:role/ops/SSMInstanceRole").matches(&p),
            Some(PrincipalMatch::Role)
        );
        assert_eq!(
            entry("arn:aws:iam::222233334444:role/Other").matches(&p),
            None
        );
        assert_eq!(
            entry("arn:aws:iam::333344445555:role/SSMInstanceRole").matches(&p),
            None
        );
        assert_eq!(
            entry("arn:aws:sts::222233334444:assumed-role/SSMInstanceRole/i-0abc").matches(&p),
            Some(PrincipalMatch::Direct)
        );
        assert_eq!(
            entry("222233334444").matches(&p),
            Some(PrincipalMatch::Account)
        );
    }

    #[test]
    fn wildcard_arns_are_rejected() {
        assert!(PrincipalEntry::parse("AWS", "arn:aws:iam::*:root").is_err());
        assert!(PrincipalEntry::parse("AWS", "arn:aws:iam::12345:root").is_err());
        assert!(PrincipalEntry::parse("AWS", "arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn not_principal_needs_the_caller_and_its_account() {
        let p = RequestPrincipal::parse("arn:aws:iam::111122223333:user/admin").unwrap();
        let user = entry("arn:aws:iam::111122223333:user/admin");
        let acct = entry("111122223333");
        assert!(!excluded_by(std::slice::from_ref(&user), &p));
        assert!(excluded_by(&[user, acct.clone()], &p));
        assert!(!excluded_by(&[acct], &p));
    }

    #[test]
    fn role_sessions_keep_the_role_path() {
        let p = RequestPrincipal::role_session(
            "arn:aws:iam::222233334444:role/service-role/DHMC",
            "i-0abc",
        )
        .unwrap();
        assert_eq!(p.arn, "arn:aws:sts::222233334444:assumed-role/DHMC/i-0abc");
        assert_eq!(
            p.principal_arn,
            "arn:aws:iam::222233334444:role/service-role/DHMC"
        );
        assert!(RequestPrincipal::role_session("arn:aws:iam::222233334444:user/u", "s").is_err());
    }

    #[test]
    fn request_principals_parse() {
        assert_eq!(
            RequestPrincipal::parse("anonymous").unwrap().kind,
            CallerKind::Anonymous
        );
        assert!(matches!(
            RequestPrincipal::parse("s3.amazonaws.com").unwrap().kind,
            CallerKind::Service(_)
        ));
        let r = RequestPrincipal::parse("arn:aws:iam::222233334444:role/path/R").unwrap();
        assert_eq!(r.arn, "arn:aws:sts::222233334444:assumed-role/R/session");
        assert_eq!(r.principal_arn, "arn:aws:iam::222233334444:role/path/R");
        assert!(RequestPrincipal::parse("bob").is_err());
    }
}
