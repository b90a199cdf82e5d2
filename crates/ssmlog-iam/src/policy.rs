//! Policy documents: the typed form, read from spanned JSON with every error located.

use serde::{Deserialize, Serialize};

use crate::condition::{Condition, Family, Operator, OperatorError};
use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics, Severity};
use crate::json::{self, Json, JsonKind, Span};
use crate::pattern::Pattern;
use crate::principal::PrincipalEntry;
use crate::template::Template;

/// Which kind of policy a document is; it decides which elements are allowed and the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// An identity policy (inline or managed), a permissions boundary or a session policy.
    Identity,
    /// An S3 bucket policy.
    BucketPolicy,
    /// A KMS key policy.
    KeyPolicy,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// Any other resource-based policy (no size limit checked).
    ResourcePolicy,
    /// A VPC endpoint policy: which principals may use the endpoint for which calls.
    VpcEndpointPolicy,
}

impl PolicyKind {
    /// Every kind, in the order they are listed in help texts.
    pub const ALL: [PolicyKind; 7] = [
        PolicyKind::Identity,
        PolicyKind::BucketPolicy,
        PolicyKind::KeyPolicy,
        PolicyKind::Scp,
        PolicyKind::Rcp,
        PolicyKind::ResourcePolicy,
        PolicyKind::VpcEndpointPolicy,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::BucketPolicy => "bucket-policy",
            PolicyKind::KeyPolicy => "key-policy",
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
            PolicyKind::ResourcePolicy => "resource-policy",
            PolicyKind::VpcEndpointPolicy => "vpc-endpoint-policy",
        }
    }

    /// Reads a kind name as written by [`PolicyKind::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    fn is_resource_based(self) -> bool {
        matches!(
            self,
            PolicyKind::BucketPolicy
                | PolicyKind::KeyPolicy
                | PolicyKind::ResourcePolicy
                | PolicyKind::VpcEndpointPolicy
        )
    }

    /// (limit, counts whitespace, quota name) per the IAM, S3, KMS and Organizations quotas.
    fn size_limit(self) -> Option<(usize, bool, &'static str)> {
        match self {
            PolicyKind::Identity => Some((
                6_144,
                false,
                "managed policy (6,144 characters without whitespace)",
            )),
            PolicyKind::BucketPolicy => Some((20_480, true, "bucket policy (20 KB)")),
            PolicyKind::KeyPolicy => Some((32_768, true, "key policy (32 KB)")),
            PolicyKind::Scp => Some((5_120, true, "service control policy (5,120 characters)")),
            PolicyKind::Rcp => Some((5_120, true, "resource control policy (5,120 characters)")),
            PolicyKind::ResourcePolicy => None,
            PolicyKind::VpcEndpointPolicy => {
                Some((20_480, true, "VPC endpoint policy (20,480 characters)"))
            }
        }
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Grants, if nothing denies.
    Allow,
    /// Denies, whatever else allows.
    Deny,
}

/// A parsed, valid policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Where it came from (a file, a role policy name).
    pub name: String,
    /// What kind of policy it is.
    pub kind: PolicyKind,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the Statement list, from 0.
    pub index: usize,
    /// The Sid, if any.
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    pub(crate) principal: Subject<PrincipalEntry>,
    pub(crate) action: Subject<Pattern>,
    pub(crate) resource: Subject<Template>,
    pub(crate) conditions: Vec<Condition>,
}

/// An element and its `Not` form; `Absent` where the statement has neither.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Subject<T> {
    Absent,
    Is(Vec<T>),
    Not(Vec<T>),
}

impl Policy {
    /// Reads and validates a policy document; any error-severity diagnostic fails it.
    pub fn parse(name: &str, text: &str, kind: PolicyKind) -> Result<Policy, Vec<Diagnostic>> {
        let mut diags = Diagnostics::new(name, text);
        let policy = read_text(&mut diags, text, kind, false);
        match policy {
            Some(p) if !diags.has_errors() => Ok(p),
            _ => Err(diags
                .list
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect()),
        }
    }

    /// Reads a policy that stands inside a larger JSON document (spans refer to `text`).
    pub(crate) fn from_json(
        diags: &mut Diagnostics<'_>,
        node: &Json,
        kind: PolicyKind,
        path: &str,
    ) -> Option<Policy> {
        Reader {
            diags,
            kind,
            path,
            lint: false,
        }
        .policy(node)
    }
}

/// Every diagnostic for a policy document: errors IAM would raise and warnings worth a look,
/// including the lints from the AWS service authorization reference.
pub fn validate_policy(source_name: &str, text: &str, kind: PolicyKind) -> Vec<Diagnostic> {
    let mut diags = Diagnostics::new(source_name, text);
    read_text(&mut diags, text, kind, true);
    diags.list
}

fn read_text(
    diags: &mut Diagnostics<'_>,
    text: &str,
    kind: PolicyKind,
    lint: bool,
) -> Option<Policy> {
    let node = match json::parse(text) {
        Ok(n) => n,
        Err(e) => {
            diags.push(
                Severity::Error,
                "json-syntax",
                Span {
                    start: e.offset,
                    end: e.offset + 1,
                },
                "",
                format!("the policy is not valid JSON: {}", e.message),
                None,
            );
            return None;
        }
    };
    let policy = Reader {
        diags,
        kind,
        path: "",
        lint,
    }
    .policy(&node);
    check_size(diags, text, &node, kind);
    policy
}

fn check_size(diags: &mut Diagnostics<'_>, text: &str, node: &Json, kind: PolicyKind) {
    let Some((limit, counts_ws, what)) = kind.size_limit() else {
        return;
    };
    let body = text.get(node.span.start..node.span.end).unwrap_or(text);
    let size = if counts_ws {
        body.len()
    } else {
        body.chars().filter(|c| !c.is_whitespace()).count()
    };
    if size > limit {
        diags.push(
            Severity::Error,
            "size-limit",
            node.span,
            "",
            format!("the policy has {size} characters, over the limit of a {what}"),
            Some("split it into several policies, or merge statements that differ only in one element".into()),
        );
    }
}

const TOP_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// An element and its `Not` form, as a statement holds them.
enum Pair<'n> {
    Neither,
    /// The value, whether it is the `Not` form, and the element's name.
    One(&'n Json, bool, &'static str),
    Both,
}

struct Reader<'d, 'a, 'p> {
    diags: &'d mut Diagnostics<'a>,
    kind: PolicyKind,
    path: &'p str,
    /// Also run the reference lints (`validate_policy`), not only what IAM rejects.
    lint: bool,
}

impl Reader<'_, '_, '_> {
    fn at(&self, rest: &str) -> String {
        match (self.path.is_empty(), rest.starts_with('[')) {
            (true, _) => rest.to_string(),
            (false, true) => format!("{}{rest}", self.path),
            (false, false) => format!("{}.{rest}", self.path),
        }
    }

    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        path: &str,
        msg: String,
        help: Option<String>,
    ) {
        self.diags
            .push(Severity::Error, code, span, path, msg, help);
    }

    fn warn(
        &mut self,
        code: &'static str,
        span: Span,
        path: &str,
        msg: String,
        help: Option<String>,
    ) {
        self.diags
            .push(Severity::Warning, code, span, path, msg, help);
    }

    fn policy(&mut self, node: &Json) -> Option<Policy> {
        let Some(members) = node.as_object() else {
            let at = self.at("");
            self.err(
                "not-an-object",
                node.span,
                &at,
                format!("a policy must be a JSON object, found {}", node.kind_name()),
                None,
            );
            return None;
        };
        self.unknown_and_duplicate_keys(members, TOP_KEYS, "");
        let variables = match node.get("Version") {
            Some(v) => match v.as_str() {
                Some("2012-10-17") => true,
                Some("2008-10-17") => false,
                _ => {
                    let at = self.at("Version");
                    self.err(
                        "version",
                        v.span,
                        &at,
                        format!("`{}` is not a policy version", short(v)),
                        Some("use \"2012-10-17\"".into()),
                    );
                    true
                }
            },
            None => {
                let at = self.at("");
                self.warn(
                    "missing-version",
                    node.span,
                    &at,
                    "the policy has no Version, so AWS reads it as 2008-10-17 and does not replace policy variables".into(),
                    Some("add \"Version\": \"2012-10-17\"".into()),
                );
                false
            }
        };
        if let Some(id) = node.get("Id") {
            if id.as_str().is_none() {
                let at = self.at("Id");
                self.err("id", id.span, &at, "Id must be a string".into(), None);
            }
        }
        let Some(st) = node.get("Statement") else {
            let at = self.at("");
            self.err(
                "missing-statement",
                node.span,
                &at,
                "the policy has no Statement".into(),
                Some("add \"Statement\": [ ... ] with at least one statement".into()),
            );
            return None;
        };
        let items: Vec<&Json> = match &st.kind {
            JsonKind::Array(a) => a.iter().collect(),
            JsonKind::Object(_) => vec![st],
            _ => {
                let at = self.at("Statement");
                self.err(
                    "statement",
                    st.span,
                    &at,
                    format!(
                        "Statement must be an object or an array of objects, found {}",
                        st.kind_name()
                    ),
                    None,
                );
                return None;
            }
        };
        if items.is_empty() {
            let at = self.at("Statement");
            self.err("statement", st.span, &at, "Statement is empty".into(), None);
        }
        let mut statements = Vec::with_capacity(items.len());
        let mut sids: Vec<(String, usize)> = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let path = if matches!(st.kind, JsonKind::Array(_)) {
                self.at(&format!("Statement[{i}]"))
            } else {
                self.at("Statement")
            };
            if let Some(s) = self.statement(item, i, &path, variables) {
                if let Some(sid) = &s.sid {
                    if let Some((_, first)) = sids.iter().find(|(x, _)| x == sid) {
                        let span = item.get("Sid").map_or(item.span, |n| n.span);
                        self.err(
                            "duplicate-sid",
                            span,
                            &format!("{path}.Sid"),
                            format!("Sid `{sid}` is already used by statement {first}"),
                            Some("give every statement its own Sid".into()),
                        );
                    }
                    sids.push((sid.clone(), i));
                }
                statements.push(s);
            }
        }
        Some(Policy {
            name: self.diags.source.to_string(),
            kind: self.kind,
            statements,
        })
    }

    fn unknown_and_duplicate_keys(&mut self, members: &[json::Member], known: &[&str], path: &str) {
        for (i, m) in members.iter().enumerate() {
            let at = if path.is_empty() {
                self.at(&m.key)
            } else {
                format!("{path}.{}", m.key)
            };
            if !known.contains(&m.key.as_str()) {
                let help = did_you_mean(&m.key, known).map(|s| format!("did you mean `{s}`?"));
                self.err(
                    "unknown-element",
                    m.key_span,
                    &at,
                    format!("`{}` is not a policy element here", m.key),
                    help.or_else(|| Some(format!("allowed: {}", known.join(", ")))),
                );
            } else if members[..i].iter().any(|o| o.key == m.key) {
                self.err(
                    "duplicate-key",
                    m.key_span,
                    &at,
                    format!("`{}` appears twice; only one would take effect", m.key),
                    Some("merge the two into one element".into()),
                );
            }
        }
    }

    fn statement(
        &mut self,
        node: &Json,
        index: usize,
        path: &str,
        variables: bool,
    ) -> Option<Statement> {
        let Some(members) = node.as_object() else {
            self.err(
                "statement",
                node.span,
                path,
                format!("a statement must be an object, found {}", node.kind_name()),
                None,
            );
            return None;
        };
        self.unknown_and_duplicate_keys(members, STATEMENT_KEYS, path);
        let errors_before = self
            .diags
            .list
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();

        let sid = match node.get("Sid") {
            None => None,
            Some(n) => match n.as_str() {
                Some(s) => {
                    let strict = matches!(
                        self.kind,
                        PolicyKind::Identity | PolicyKind::Scp | PolicyKind::Rcp
                    );
                    if strict && !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                        self.err(
                            "sid-characters",
                            n.span,
                            &format!("{path}.Sid"),
                            format!("Sid `{s}` has characters other than A-Z, a-z and 0-9"),
                            Some(
                                "IAM and Organizations accept only letters and digits in a Sid"
                                    .into(),
                            ),
                        );
                    }
                    Some(s.to_string())
                }
                None => {
                    self.err(
                        "sid",
                        n.span,
                        &format!("{path}.Sid"),
                        "Sid must be a string".into(),
                        None,
                    );
                    None
                }
            },
        };

        let effect = match node.get("Effect") {
            None => {
                self.err(
                    "effect",
                    node.span,
                    path,
                    "the statement has no Effect".into(),
                    Some("add \"Effect\": \"Allow\" or \"Deny\"".into()),
                );
                None
            }
            Some(n) => match n.as_str() {
                Some("Allow") => Some(Effect::Allow),
                Some("Deny") => Some(Effect::Deny),
                _ => {
                    let help = n
                        .as_str()
                        .and_then(|s| did_you_mean(s, &["Allow", "Deny"]))
                        .map_or("use `Allow` or `Deny` (case-sensitive)".to_string(), |s| {
                            format!("did you mean `{s}`?")
                        });
                    self.err(
                        "effect",
                        n.span,
                        &format!("{path}.Effect"),
                        format!("`{}` is not an Effect", short(n)),
                        Some(help),
                    );
                    None
                }
            },
        };

        let principal = self.principal(node, path, effect);
        let action = self.actions(node, path, effect);
        let resource = self.resources(node, path, variables, effect);
        let conditions = match node.get("Condition") {
            Some(c) => self.conditions(c, &format!("{path}.Condition"), variables),
            None => Vec::new(),
        };
        if self.lint {
            crate::lint::statement(self.diags, node, path, self.kind);
        }

        if effect == Some(Effect::Allow)
            && self.kind.is_resource_based()
            && matches!(&principal, Subject::Is(p) if p.contains(&PrincipalEntry::Any))
            && conditions.is_empty()
        {
            let span = node.get("Principal").map_or(node.span, |n| n.span);
            self.warn(
                "public-principal",
                span,
                &format!("{path}.Principal"),
                "Allow to `*` with no Condition grants everyone, anonymous callers included".into(),
                Some("narrow it with a Condition such as `aws:PrincipalOrgID`, or name the principals".into()),
            );
        }

        let errors_after = self
            .diags
            .list
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors_after > errors_before {
            return None;
        }
        Some(Statement {
            index,
            sid,
            effect: effect?,
            principal,
            action,
            resource,
            conditions,
        })
    }

    /// Which of an element and its `Not` form the statement has; both is an error.
    fn pair<'n>(
        &mut self,
        node: &'n Json,
        path: &str,
        is: &'static str,
        not: &'static str,
    ) -> Pair<'n> {
        match (node.get(is), node.get(not)) {
            (Some(_), Some(n)) => {
                self.err(
                    "element-pair",
                    n.span,
                    &format!("{path}.{not}"),
                    format!("a statement cannot have both {is} and {not}"),
                    Some(format!("keep {is} or {not}, not both")),
                );
                Pair::Both
            }
            (Some(v), None) => Pair::One(v, false, is),
            (None, Some(v)) => Pair::One(v, true, not),
            (None, None) => Pair::Neither,
        }
    }

    fn principal(
        &mut self,
        node: &Json,
        path: &str,
        effect: Option<Effect>,
    ) -> Subject<PrincipalEntry> {
        let (value, is_not, name) = match self.pair(node, path, "Principal", "NotPrincipal") {
            Pair::One(value, is_not, name) => (value, is_not, name),
            Pair::Both => return Subject::Absent,
            Pair::Neither => {
                if self.kind.is_resource_based() || self.kind == PolicyKind::Rcp {
                    self.err(
                        "missing-principal",
                        node.span,
                        path,
                        format!("a statement of a {} needs a Principal", self.kind.name()),
                        Some("add \"Principal\": {\"AWS\": \"arn:aws:iam::ACCOUNT:root\"} or the principals it is for".into()),
                    );
                }
                return Subject::Absent;
            }
        };
        let at = format!("{path}.{name}");
        if matches!(self.kind, PolicyKind::Identity | PolicyKind::Scp) {
            self.err(
                "principal-not-allowed",
                value.span,
                &at,
                format!(
                    "{name} is not allowed in a {}: it applies to the identity it is attached to",
                    self.kind.name()
                ),
                Some(format!("remove {name}")),
            );
            return Subject::Absent;
        }
        if is_not && effect == Some(Effect::Allow) {
            self.err(
                "notprincipal-allow",
                value.span,
                &at,
                "NotPrincipal is only allowed with Deny".into(),
                Some("use Principal with Allow, or change the Effect to Deny".into()),
            );
        }
        let entries = self.principal_entries(value, &at);
        if self.kind == PolicyKind::Rcp && (is_not || entries != [PrincipalEntry::Any]) {
            self.err(
                "rcp-principal",
                value.span,
                &at,
                "a resource control policy must use \"Principal\": \"*\"".into(),
                Some("narrow principals with Condition keys such as `aws:PrincipalOrgID`".into()),
            );
        }
        if is_not {
            Subject::Not(entries)
        } else {
            Subject::Is(entries)
        }
    }

    fn principal_entries(&mut self, value: &Json, at: &str) -> Vec<PrincipalEntry> {
        if value.as_str() == Some("*") {
            return vec![PrincipalEntry::Any];
        }
        let Some(members) = value.as_object() else {
            self.err(
                "principal",
                value.span,
                at,
                format!(
                    "Principal must be \"*\" or an object such as {{\"AWS\": [...]}}, found {}",
                    short(value)
                ),
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in members {
            let key_at = format!("{at}.{}", m.key);
            let kinds = ["AWS", "Service", "Federated", "CanonicalUser"];
            if !kinds.contains(&m.key.as_str()) {
                let help = did_you_mean(&m.key, &kinds).map(|s| format!("did you mean `{s}`?"));
                self.err(
                    "principal",
                    m.key_span,
                    &key_at,
                    format!("`{}` is not a principal type", m.key),
                    help.or(Some("use AWS, Service, Federated or CanonicalUser".into())),
                );
                continue;
            }
            for (i, v) in self.strings(&m.value, &key_at).into_iter().enumerate() {
                let (s, span) = v;
                let item_at = if matches!(m.value.kind, JsonKind::Array(_)) {
                    format!("{key_at}[{i}]")
                } else {
                    key_at.clone()
                };
                match PrincipalEntry::parse(&m.key, &s) {
                    Ok(e) => out.push(e),
                    Err(why) => {
                        self.err("invalid-principal", span, &item_at, why.message, why.help)
                    }
                }
            }
        }
        out
    }

    /// A string or an array of strings; anything else is an error.
    fn strings(&mut self, value: &Json, at: &str) -> Vec<(String, Span)> {
        match &value.kind {
            JsonKind::String(s) => vec![(s.clone(), value.span)],
            JsonKind::Array(items) => {
                if items.is_empty() {
                    self.err(
                        "empty",
                        value.span,
                        at,
                        "the list is empty".into(),
                        Some("list at least one value, or remove the element".into()),
                    );
                }
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, it)| match it.as_str() {
                        Some(s) => Some((s.to_string(), it.span)),
                        None => {
                            self.err(
                                "type",
                                it.span,
                                &format!("{at}[{i}]"),
                                format!("expected a string, found {}", it.kind_name()),
                                None,
                            );
                            None
                        }
                    })
                    .collect()
            }
            _ => {
                self.err(
                    "type",
                    value.span,
                    at,
                    format!(
                        "expected a string or an array of strings, found {}",
                        value.kind_name()
                    ),
                    None,
                );
                Vec::new()
            }
        }
    }

    fn actions(&mut self, node: &Json, path: &str, effect: Option<Effect>) -> Subject<Pattern> {
        let (value, is_not, name) = match self.pair(node, path, "Action", "NotAction") {
            Pair::One(value, is_not, name) => (value, is_not, name),
            Pair::Both => return Subject::Absent,
            Pair::Neither => {
                self.err(
                    "missing-action",
                    node.span,
                    path,
                    "the statement has no Action".into(),
                    Some("add \"Action\": [\"service:Action\", ...]".into()),
                );
                return Subject::Absent;
            }
        };
        let at = format!("{path}.{name}");
        if is_not && effect == Some(Effect::Allow) {
            self.warn("notaction-allow", value.span, &at, "NotAction with Allow grants every action not listed, including actions AWS adds later".into(), Some("list the allowed actions with Action instead".into()));
        }
        let patterns = self
            .strings(value, &at)
            .into_iter()
            .filter_map(|(s, span)| {
                if s == "*" || valid_action(&s) {
                    Some(Pattern::wildcard(&s.to_ascii_lowercase()))
                } else {
                    self.err(
                        "invalid-action",
                        span,
                        &at,
                        format!("`{s}` is not an action"),
                        Some(
                            "write actions as `service:ActionName`, for example `s3:PutObject`"
                                .into(),
                        ),
                    );
                    None
                }
            })
            .collect();
        if is_not {
            Subject::Not(patterns)
        } else {
            Subject::Is(patterns)
        }
    }

    fn resources(
        &mut self,
        node: &Json,
        path: &str,
        variables: bool,
        effect: Option<Effect>,
    ) -> Subject<Template> {
        let (value, is_not, name) = match self.pair(node, path, "Resource", "NotResource") {
            Pair::One(value, is_not, name) => (value, is_not, name),
            Pair::Both => return Subject::Absent,
            Pair::Neither => {
                if self.kind != PolicyKind::ResourcePolicy && self.kind != PolicyKind::Scp {
                    self.err(
                        "missing-resource",
                        node.span,
                        path,
                        "the statement has no Resource".into(),
                        Some("add \"Resource\": \"*\" or the ARNs it is for".into()),
                    );
                }
                return Subject::Absent;
            }
        };
        let at = format!("{path}.{name}");
        if is_not && effect == Some(Effect::Allow) {
            self.warn(
                "notresource-allow",
                value.span,
                &at,
                "NotResource with Allow grants every resource not listed".into(),
                Some("list the allowed resources with Resource instead".into()),
            );
        }
        let mut out = Vec::new();
        for (s, span) in self.strings(value, &at) {
            if let Some(problem) = resource_problem(&s) {
                self.err(
                    "invalid-arn",
                    span,
                    &at,
                    format!("`{s}` {problem}"),
                    Some("write `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, or `*`".into()),
                );
                continue;
            }
            if self.kind == PolicyKind::KeyPolicy && s != "*" {
                self.warn(
                    "key-policy-resource",
                    span,
                    &at,
                    format!("a key policy applies only to its own key; `{s}` does not narrow it"),
                    Some("use \"Resource\": \"*\" in key policies".into()),
                );
            }
            match Template::parse(&s, variables) {
                Ok(t) => out.push(t),
                Err(e) => self.err("variable", span, &at, e.message, None),
            }
        }
        if is_not {
            Subject::Not(out)
        } else {
            Subject::Is(out)
        }
    }

    fn conditions(&mut self, node: &Json, path: &str, variables: bool) -> Vec<Condition> {
        let Some(ops) = node.as_object() else {
            self.err(
                "condition",
                node.span,
                path,
                format!("Condition must be an object, found {}", node.kind_name()),
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, opm) in ops.iter().enumerate() {
            let op_at = format!("{path}.{}", opm.key);
            if ops[..i].iter().any(|o| o.key == opm.key) {
                self.err(
                    "duplicate-key",
                    opm.key_span,
                    &op_at,
                    format!(
                        "operator `{}` appears twice; only one would take effect",
                        opm.key
                    ),
                    Some("merge the two blocks".into()),
                );
            }
            let op = match Operator::parse(&opm.key) {
                Ok(op) => op,
                Err(OperatorError::Unknown(s)) => {
                    let help = s.map(|s| format!("did you mean `{s}`?"));
                    self.err(
                        "unknown-operator",
                        opm.key_span,
                        &op_at,
                        format!("unknown condition operator `{}`", opm.key),
                        help,
                    );
                    continue;
                }
                Err(OperatorError::NullIfExists) => {
                    self.err(
                        "unknown-operator",
                        opm.key_span,
                        &op_at,
                        format!("`{}`: the Null operator has no IfExists form", opm.key),
                        Some("use `Null`".into()),
                    );
                    continue;
                }
            };
            let Some(keys) = opm.value.as_object() else {
                self.err(
                    "condition",
                    opm.value.span,
                    &op_at,
                    format!(
                        "`{}` must map condition keys to values, found {}",
                        opm.key,
                        opm.value.kind_name()
                    ),
                    None,
                );
                continue;
            };
            for (j, km) in keys.iter().enumerate() {
                let key_at = format!("{op_at}.{}", km.key);
                if keys[..j]
                    .iter()
                    .any(|o| o.key.eq_ignore_ascii_case(&km.key))
                {
                    self.err(
                        "duplicate-key",
                        km.key_span,
                        &key_at,
                        format!(
                            "condition key `{}` appears twice under `{}`",
                            km.key, opm.key
                        ),
                        None,
                    );
                }
                if self.lint {
                    self.check_set_operator(&km.key, op, km.key_span, &key_at);
                }
                let values = self.condition_values(&km.value, &key_at, op, variables);
                out.push(Condition {
                    operator_name: opm.key.clone(),
                    op,
                    key: km.key.clone(),
                    key_lower: km.key.to_ascii_lowercase(),
                    values,
                });
            }
        }
        out
    }

    /// Multivalued keys need `ForAllValues:`/`ForAnyValue:`; single-valued keys must not
    /// have them (IAM documents the latter as possibly overly permissive).
    fn check_set_operator(&mut self, key: &str, op: Operator, span: Span, at: &str) {
        use crate::condition::SetMode;
        let Some(multi) = crate::reference::Reference::get().key_is_multivalued(key) else {
            return;
        };
        match (multi, op.set, op.family) {
            (true, SetMode::Single, f) if f != Family::Null => self.warn(
                "multivalued-key",
                span,
                at,
                format!("`{key}` can hold several values, but the operator compares it as one"),
                Some("use `ForAnyValue:` or `ForAllValues:` before the operator".into()),
            ),
            (false, SetMode::ForAll, _) => {
                self.warn(
                    "set-operator-on-single-value",
                    span,
                    at,
                    format!("`ForAllValues:` on the single-valued key `{key}` is true when the key is missing, which can allow more than intended"),
                    Some("drop `ForAllValues:`, or add a `Null` check for the key".into()),
                )
            }
            _ => {}
        }
    }

    fn condition_values(
        &mut self,
        node: &Json,
        at: &str,
        op: Operator,
        variables: bool,
    ) -> Vec<Template> {
        let items: Vec<&Json> = match &node.kind {
            JsonKind::Array(a) => {
                if a.is_empty() {
                    self.err(
                        "empty",
                        node.span,
                        at,
                        "the condition has no values".into(),
                        None,
                    );
                }
                a.iter().collect()
            }
            _ => vec![node],
        };
        let mut out = Vec::new();
        for it in items {
            let text = match &it.kind {
                JsonKind::String(s) => s.clone(),
                JsonKind::Number(n) => n.clone(),
                JsonKind::Bool(b) => b.to_string(),
                _ => {
                    self.err(
                        "condition-value",
                        it.span,
                        at,
                        format!(
                            "a condition value must be a string, number or boolean, found {}",
                            it.kind_name()
                        ),
                        None,
                    );
                    continue;
                }
            };
            let t = match Template::parse(&text, variables) {
                Ok(t) => t,
                Err(e) => {
                    self.err("variable", it.span, at, e.message, None);
                    continue;
                }
            };
            if !t.has_variables() {
                if let Some((what, example)) = value_problem(op.family, &text) {
                    self.err(
                        "condition-value",
                        it.span,
                        at,
                        format!("`{text}` is not {what}"),
                        Some(format!("write it as {example}")),
                    );
                }
            }
            out.push(t);
        }
        out
    }
}

/// What a fixed condition value must look like for its operator family.
fn value_problem(family: Family, v: &str) -> Option<(&'static str, &'static str)> {
    use crate::condition::{parse_cidr, parse_date, parse_number};
    match family {
        Family::Numeric(_) if parse_number(v).is_none() => Some(("a number", "`10` or `2.5`")),
        Family::Date(_) if parse_date(v).is_none() => {
            Some(("a date", "`2026-01-31T00:00:00Z` or epoch seconds"))
        }
        Family::Bool | Family::Null if !(v == "true" || v == "false") => {
            Some(("a boolean", "`true` or `false`"))
        }
        Family::Ip if parse_cidr(v).is_none() => {
            Some(("an IP address or CIDR block", "`203.0.113.0/24`"))
        }
        _ => None,
    }
}

/// Why a Resource value is not usable, if it is not. A `*` that ends a segment may expand
/// across colons (`arn:aws:kms:*`, `arn:aws:kms:*:key/ID`), so an ARN with fewer segments is
/// usable when one ends so, as the IAM Resource reference allows; the service segment may not
/// hold a wildcard.
fn resource_problem(s: &str) -> Option<&'static str> {
    if s == "*" {
        return None;
    }
    let Some(rest) = s.strip_prefix("arn:") else {
        return Some("is not an ARN");
    };
    let service = rest.split(':').nth(1);
    if service.is_some_and(|svc| svc.contains(['*', '?'])) {
        return Some("has a wildcard in the service segment, which IAM does not allow");
    }
    let segment_ends_in_star = rest.split(':').skip(2).any(|seg| seg.ends_with('*'));
    if crate::condition::split_arn(s).is_some() || (segment_ends_in_star && service.is_some()) {
        None
    } else {
        Some("is not an ARN")
    }
}

fn valid_action(s: &str) -> bool {
    let Some((svc, name)) = s.split_once(':') else {
        return false;
    };
    !svc.is_empty()
        && svc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?' || c == '-' || c == '_')
}

fn short(n: &Json) -> String {
    let v = n.to_value().to_string();
    if v.chars().count() > 60 {
        format!("{}…", v.chars().take(60).collect::<String>())
    } else {
        v
    }
}
