//! The request form of docs/iam-request.md: a request and every policy that decides it.

use std::fmt;

use crate::context::Context;
use crate::diagnostic::{Diagnostic, Diagnostics, Severity};
use crate::json::{self, Json, JsonKind, Span};
use crate::policy::{Policy, PolicyKind};
use crate::principal::{CallerKind, RequestPrincipal};

/// One request: who calls, what action on which resource, with which context keys.
#[derive(Debug, Clone)]
pub struct Request {
    /// Who calls.
    pub principal: RequestPrincipal,
    /// The action as written.
    pub action: String,
    pub(crate) action_lower: String,
    /// The resource ARN.
    pub resource: String,
    /// The account that owns the resource.
    pub resource_account: Option<String>,
    /// Request context, with derived keys added.
    pub context: Context,
    /// SCPs do not apply to the management account.
    pub principal_in_management_account: bool,
    /// RCPs do not apply to the management account.
    pub resource_in_management_account: bool,
    /// The caller (a user or role) has a permissions boundary: a resource policy's
    /// NotPrincipal + Deny statement then denies it whatever NotPrincipal names, as AWS
    /// documents. Set from `policies.permissionsBoundary` or `principal.hasPermissionsBoundary`.
    pub has_permissions_boundary: bool,
}

impl Request {
    /// A request with the context keys AWS derives from the caller and the resource;
    /// `context` holds the rest (keys it sets are not overwritten).
    pub fn new(
        principal: RequestPrincipal,
        action: &str,
        resource: &str,
        resource_account: Option<&str>,
        mut context: Context,
    ) -> Self {
        derive_context(&mut context, &principal, resource_account);
        Request {
            principal,
            action_lower: action.to_ascii_lowercase(),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: resource_account.map(str::to_string),
            context,
            principal_in_management_account: false,
            resource_in_management_account: false,
            has_permissions_boundary: false,
        }
    }
}

/// The policies that take part in a decision, borrowed, so one parsed policy can serve
/// many requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// Identity policies of the caller.
    pub identity: &'a [Policy],
    /// Permissions boundary, if any.
    pub boundary: Option<&'a Policy>,
    /// Session policy, if any.
    pub session_policy: Option<&'a Policy>,
    /// SCPs per level of the caller's organization path, root first.
    pub scps: &'a [OrgLevel],
    /// RCPs per level of the resource's organization path, root first.
    pub rcps: &'a [OrgLevel],
    /// The resource policy (bucket policy, key policy, ...).
    pub resource_policy: Option<&'a Policy>,
    /// The policy of the VPC endpoint the request goes through, if it goes through one.
    pub vpc_endpoint: Option<&'a Policy>,
}

/// A request with its policies, parsed from the request form and ready to evaluate.
#[derive(Debug, Clone)]
pub struct EvalInput {
    /// The request.
    pub request: Request,
    /// Identity policies of the principal.
    pub identity: Vec<Policy>,
    /// Permissions boundary, if any.
    pub boundary: Option<Policy>,
    /// Session policy, if any.
    pub session_policy: Option<Policy>,
    /// SCPs per level of the principal's organization path.
    pub scps: Vec<OrgLevel>,
    /// RCPs per level of the resource's organization path.
    pub rcps: Vec<OrgLevel>,
    /// The resource policy (bucket policy, key policy, ...).
    pub resource_policy: Option<Policy>,
    /// The policy of the VPC endpoint the request goes through, if any.
    pub vpc_endpoint: Option<Policy>,
}

impl EvalInput {
    /// The policies, borrowed.
    pub fn policies(&self) -> PolicySet<'_> {
        PolicySet {
            identity: &self.identity,
            boundary: self.boundary.as_ref(),
            session_policy: self.session_policy.as_ref(),
            scps: &self.scps,
            rcps: &self.rcps,
            resource_policy: self.resource_policy.as_ref(),
            vpc_endpoint: self.vpc_endpoint.as_ref(),
        }
    }
}

/// The policies attached at one level (root, OU, account) of an organization path.
#[derive(Debug, Clone)]
pub struct OrgLevel {
    /// The root, OU or account id the policies are attached to.
    pub target: String,
    /// The policies attached there.
    pub policies: Vec<Policy>,
}

/// The request form could not be read; every problem found, located.
#[derive(Debug, Clone)]
pub struct InputError {
    /// What is wrong, each with file, line, column and JSON path.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            writeln!(
                f,
                "{}:{}:{}: {} ({})",
                d.source, d.line, d.column, d.message, d.path
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

impl EvalInput {
    /// Reads one request document.
    pub fn from_json(text: &str) -> Result<Self, InputError> {
        Self::from_json_named("request", text)
    }

    /// Reads one request document; `source` names it in errors.
    pub fn from_json_named(source: &str, text: &str) -> Result<Self, InputError> {
        let mut diags = Diagnostics::new(source, text);
        let node = parse_document(&mut diags, text)?;
        Self::from_node(&mut diags, &node, "")
            .filter(|_| !diags.has_errors())
            .ok_or(InputError {
                diagnostics: errors_only(diags.list),
            })
    }

    /// Reads a file that holds one request or a JSON array of them.
    pub fn many_from_json(source: &str, text: &str) -> Result<Vec<Self>, InputError> {
        let mut diags = Diagnostics::new(source, text);
        let node = parse_document(&mut diags, text)?;
        let out: Vec<Option<Self>> = match &node.kind {
            JsonKind::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| Self::from_node(&mut diags, n, &format!("[{i}]")))
                .collect(),
            _ => vec![Self::from_node(&mut diags, &node, "")],
        };
        if diags.has_errors() {
            return Err(InputError {
                diagnostics: errors_only(diags.list),
            });
        }
        Ok(out.into_iter().flatten().collect())
    }

    pub(crate) fn from_node(diags: &mut Diagnostics<'_>, node: &Json, path: &str) -> Option<Self> {
        let mut r = InputReader { diags, base: path };
        r.input(node)
    }
}

/// The request file as spanned JSON, or the syntax error located.
fn parse_document(diags: &mut Diagnostics<'_>, text: &str) -> Result<Json, InputError> {
    json::parse(text).map_err(|e| {
        let span = Span {
            start: e.offset,
            end: e.offset + 1,
        };
        diags.error(
            "json-syntax",
            span,
            "",
            format!("not valid JSON: {}", e.message),
        );
        InputError {
            diagnostics: std::mem::take(&mut diags.list),
        }
    })
}

fn errors_only(list: Vec<Diagnostic>) -> Vec<Diagnostic> {
    list.into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

struct InputReader<'d, 'a, 'p> {
    diags: &'d mut Diagnostics<'a>,
    base: &'p str,
}

impl InputReader<'_, '_, '_> {
    fn at(&self, rest: &str) -> String {
        match (self.base.is_empty(), rest.is_empty()) {
            (true, _) => rest.to_string(),
            (false, true) => self.base.to_string(),
            (false, false) => format!("{}.{rest}", self.base),
        }
    }

    fn fail(&mut self, span: Span, rest: &str, msg: String) {
        let at = self.at(rest);
        self.diags.error("request", span, &at, msg);
    }

    fn string(&mut self, node: &Json, key: &str, rest: &str) -> Option<String> {
        match node.get(key) {
            Some(v) => match v.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    self.fail(
                        v.span,
                        rest,
                        format!("`{key}` must be a string, found {}", v.kind_name()),
                    );
                    None
                }
            },
            None => None,
        }
    }

    fn input(&mut self, node: &Json) -> Option<EvalInput> {
        if node.as_object().is_none() {
            self.fail(
                node.span,
                "",
                format!("a request must be an object, found {}", node.kind_name()),
            );
            return None;
        }
        let known = [
            "principal",
            "action",
            "resource",
            "context",
            "policies",
            "principalInManagementAccount",
            "resourceInManagementAccount",
            "id",
            "comment",
        ];
        for m in node.as_object().unwrap_or_default() {
            if !known.contains(&m.key.as_str()) {
                let at = self.at(&m.key);
                let help = crate::diagnostic::did_you_mean(&m.key, &known)
                    .map(|s| format!("did you mean `{s}`?"));
                self.diags.push(
                    Severity::Error,
                    "request",
                    m.key_span,
                    &at,
                    format!("unknown field `{}`", m.key),
                    help,
                );
            }
        }
        let mut context = Context::default();
        let mut has_boundary_flag = false;

        // principal
        let pnode = node.get("principal");
        let principal = match pnode {
            None => {
                self.fail(
                    node.span,
                    "principal",
                    "the request has no `principal`".into(),
                );
                None
            }
            Some(p) => {
                let (arn, span) = match &p.kind {
                    JsonKind::String(s) => (Some(s.clone()), p.span),
                    JsonKind::Object(_) => (self.string(p, "arn", "principal.arn"), p.span),
                    _ => (None, p.span),
                };
                match arn {
                    None => {
                        self.fail(span, "principal", "`principal` needs an `arn`".into());
                        None
                    }
                    Some(a) => match RequestPrincipal::parse(&a) {
                        Ok(rp) => Some(rp),
                        Err(e) => {
                            self.fail(span, "principal.arn", e);
                            None
                        }
                    },
                }
            }
        };
        if let Some(p) = pnode.filter(|p| p.as_object().is_some()) {
            if let Some(org) = self.string(p, "orgId", "principal.orgId") {
                context.insert_default("aws:PrincipalOrgID", vec![org]);
            }
            if let Some(paths) = p.get("orgPaths") {
                let v = self.values(paths, "principal.orgPaths");
                context.insert_default("aws:PrincipalOrgPaths", v);
            }
            self.tags(p, "principal.tags", "aws:PrincipalTag/", &mut context);
            // The user's or role's unique id (AIDA..., AROA...) gives aws:userid.
            if let (Some(id), Some(rp)) = (
                self.string(p, "uniqueId", "principal.uniqueId"),
                principal.as_ref(),
            ) {
                let userid = match &rp.kind {
                    CallerKind::RoleSession { session, .. } => format!("{id}:{session}"),
                    _ => id,
                };
                context.insert_default("aws:userid", vec![userid]);
            }
            if p.get("hasPermissionsBoundary").and_then(|b| match b.kind {
                JsonKind::Bool(b) => Some(b),
                _ => None,
            }) == Some(true)
            {
                has_boundary_flag = true;
            }
        }

        let action = match self.string(node, "action", "action") {
            Some(a) if a.contains(':') => Some(a),
            Some(a) => {
                let span = node.get("action").map_or(node.span, |n| n.span);
                self.fail(
                    span,
                    "action",
                    format!("`{a}` is not an action: write `service:Action`"),
                );
                None
            }
            None => {
                self.fail(node.span, "action", "the request has no `action`".into());
                None
            }
        };

        let (resource, mut resource_account) = match node.get("resource") {
            Some(r) if r.as_str().is_some() => (r.as_str().map(str::to_string), None),
            Some(r) if r.as_object().is_some() => {
                let arn = self.string(r, "arn", "resource.arn");
                let acct = self.string(r, "account", "resource.account");
                if let Some(org) = self.string(r, "orgId", "resource.orgId") {
                    context.insert_default("aws:ResourceOrgID", vec![org]);
                }
                self.tags(r, "resource.tags", "aws:ResourceTag/", &mut context);
                (arn, acct)
            }
            _ => (None, None),
        };
        let Some(resource) = resource else {
            self.fail(
                node.span,
                "resource",
                "the request has no `resource` ARN".into(),
            );
            return None;
        };
        if resource_account.is_none() {
            resource_account = crate::condition::split_arn(&resource)
                .map(|p| p[4].to_string())
                .filter(|a| !a.is_empty());
        }
        if resource_account.is_none() {
            let span = node.get("resource").map_or(node.span, |n| n.span);
            self.fail(span, "resource.account", format!("`{resource}` carries no account: give `resource.account`, the account that owns it"));
        }

        if let Some(c) = node.get("context") {
            match c.as_object() {
                Some(members) => {
                    for m in members {
                        let v = self.values(&m.value, &format!("context.{}", m.key));
                        context.insert(&m.key, v);
                    }
                }
                None => self.fail(
                    c.span,
                    "context",
                    format!("`context` must be an object, found {}", c.kind_name()),
                ),
            }
        }

        let flag = |key: &str| {
            node.get(key)
                .is_some_and(|v| v.kind == JsonKind::Bool(true))
        };
        let principal_in_management_account = flag("principalInManagementAccount");
        let resource_in_management_account = flag("resourceInManagementAccount");

        let resource_kind = if resource.starts_with("arn:aws:kms:") || resource.contains(":kms:") {
            PolicyKind::KeyPolicy
        } else if resource.contains(":s3:::") {
            PolicyKind::BucketPolicy
        } else {
            PolicyKind::ResourcePolicy
        };
        let mut identity = Vec::new();
        let (mut boundary, mut session_policy, mut resource_policy) = (None, None, None);
        let mut vpc_endpoint = None;
        let (mut scps, mut rcps) = (Vec::new(), Vec::new());
        if let Some(p) = node.get("policies") {
            for m in p.as_object().unwrap_or_default() {
                let at = format!("policies.{}", m.key);
                match m.key.as_str() {
                    "identity" => identity = self.policy_list(&m.value, &at, PolicyKind::Identity),
                    "permissionsBoundary" => {
                        boundary = self.policy(&m.value, &at, PolicyKind::Identity)
                    }
                    "sessionPolicy" => {
                        session_policy = self.policy(&m.value, &at, PolicyKind::Identity)
                    }
                    "resourcePolicy" => resource_policy = self.policy(&m.value, &at, resource_kind),
                    "scps" => scps = self.levels(&m.value, &at, PolicyKind::Scp),
                    "rcps" => rcps = self.levels(&m.value, &at, PolicyKind::Rcp),
                    "vpcEndpoint" => {
                        vpc_endpoint = self.policy(&m.value, &at, PolicyKind::VpcEndpointPolicy)
                    }
                    other => {
                        let at = self.at(&at);
                        self.diags.push(Severity::Error, "request", m.key_span, &at, format!("unknown policy slot `{other}`"),
                            Some("use identity, permissionsBoundary, sessionPolicy, scps, rcps, resourcePolicy or vpcEndpoint".into()));
                    }
                }
            }
            if p.as_object().is_none() {
                self.fail(
                    p.span,
                    "policies",
                    format!("`policies` must be an object, found {}", p.kind_name()),
                );
            }
        }

        let principal = principal?;
        let action = action?;
        let mut request = Request::new(
            principal,
            &action,
            &resource,
            resource_account.as_deref(),
            context,
        );
        request.principal_in_management_account = principal_in_management_account;
        request.resource_in_management_account = resource_in_management_account;
        request.has_permissions_boundary = has_boundary_flag || boundary.is_some();
        Some(EvalInput {
            request,
            identity,
            boundary,
            session_policy,
            scps,
            rcps,
            resource_policy,
            vpc_endpoint,
        })
    }

    fn values(&mut self, node: &Json, rest: &str) -> Vec<String> {
        let one = |n: &Json| match &n.kind {
            JsonKind::String(s) => Some(s.clone()),
            JsonKind::Number(s) => Some(s.clone()),
            JsonKind::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        match &node.kind {
            JsonKind::Array(items) => items
                .iter()
                .filter_map(|it| {
                    let v = one(it);
                    if v.is_none() {
                        self.fail(
                            it.span,
                            rest,
                            format!(
                                "a context value must be a string, number or boolean, found {}",
                                it.kind_name()
                            ),
                        );
                    }
                    v
                })
                .collect(),
            _ => match one(node) {
                Some(v) => vec![v],
                None => {
                    self.fail(node.span, rest, format!("a context value must be a string, number, boolean or an array of them, found {}", node.kind_name()));
                    Vec::new()
                }
            },
        }
    }

    fn tags(&mut self, node: &Json, rest: &str, prefix: &str, ctx: &mut Context) {
        if let Some(t) = node.get("tags") {
            for m in t.as_object().unwrap_or_default() {
                let v = self.values(&m.value, &format!("{rest}.{}", m.key));
                ctx.insert_default(&format!("{prefix}{}", m.key), v);
            }
        }
    }

    fn policy(&mut self, node: &Json, rest: &str, kind: PolicyKind) -> Option<Policy> {
        if node.kind == JsonKind::Null {
            return None;
        }
        if node.as_object().is_none() {
            self.fail(
                node.span,
                rest,
                format!(
                    "a policy entry must be {{\"name\": ..., \"document\": ...}}, found {}",
                    node.kind_name()
                ),
            );
            return None;
        }
        let name = self
            .string(node, "name", &format!("{rest}.name"))
            .unwrap_or_else(|| self.at(rest));
        let kind = match self.string(node, "kind", &format!("{rest}.kind")) {
            Some(k) => PolicyKind::from_name(&k).unwrap_or(kind),
            None => kind,
        };
        let Some(doc) = node.get("document") else {
            self.fail(node.span, rest, "the policy entry has no `document`".into());
            return None;
        };
        let doc_path = self.at(&format!("{rest}.document"));
        if let Some(text) = doc.as_str() {
            // AWS APIs return policies as JSON strings; read them as their own text.
            return match Policy::parse(&name, text, kind) {
                Ok(p) => Some(p),
                Err(ds) => {
                    for d in ds {
                        let at = format!("{doc_path} (as text) {}", d.path);
                        self.diags
                            .push(Severity::Error, d.code, doc.span, &at, d.message, d.help);
                    }
                    None
                }
            };
        }
        let mut inner = self.diags.part(&name);
        let policy = Policy::from_json(&mut inner, doc, kind, &doc_path);
        for d in inner.list {
            if d.severity == Severity::Error {
                self.diags
                    .push(d.severity, d.code, d.span, &d.path, d.message, d.help);
            }
        }
        policy
    }

    fn policy_list(&mut self, node: &Json, rest: &str, kind: PolicyKind) -> Vec<Policy> {
        match &node.kind {
            JsonKind::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| self.policy(it, &format!("{rest}[{i}]"), kind))
                .collect(),
            JsonKind::Null => Vec::new(),
            _ => self.policy(node, rest, kind).into_iter().collect(),
        }
    }

    fn levels(&mut self, node: &Json, rest: &str, kind: PolicyKind) -> Vec<OrgLevel> {
        let JsonKind::Array(items) = &node.kind else {
            self.fail(node.span, rest, format!("`{rest}` must be an array of {{\"target\": ..., \"policies\": [...]}}, found {}", node.kind_name()));
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let at = format!("{rest}[{i}]");
                let target = self
                    .string(it, "target", &format!("{at}.target"))
                    .unwrap_or_else(|| format!("level {i}"));
                let policies = match it.get("policies") {
                    Some(p) => self.policy_list(p, &format!("{at}.policies"), kind),
                    None => Vec::new(),
                };
                OrgLevel { target, policies }
            })
            .collect()
    }
}

/// `aws:userid` as AWS sets it on every signed request: the role's unique id and the session
/// name (`AROA...:session`) for a role session, the user's unique id for a user, the account
/// for the root user, `account:name` for a federated user, `anonymous` for an unsigned one.
/// A request that does not give `principal.uniqueId` gets a stand-in id derived from the ARN
/// (`AROA`/`AIDA` and 17 characters), so `*:session` patterns work and a policy that names a
/// real id does not match it (docs/iam-request.md).
fn userid(p: &RequestPrincipal) -> Option<String> {
    let acct = p.account.as_deref().unwrap_or("");
    match &p.kind {
        CallerKind::RoleSession { session, .. } => Some(format!(
            "{}:{session}",
            stand_in_id("AROA", &p.principal_arn)
        )),
        CallerKind::User(_) => Some(stand_in_id("AIDA", &p.principal_arn)),
        CallerKind::Root => Some(acct.to_string()),
        CallerKind::FederatedUser => {
            let name = p.arn.rsplit('/').next().unwrap_or("");
            Some(format!("{acct}:{name}"))
        }
        CallerKind::Anonymous => Some("anonymous".into()),
        CallerKind::Service(_) => None,
    }
}

/// `prefix` and 17 upper-case letters and digits from a hash of `arn` (FNV-1a): stable
/// across runs and machines.
fn stand_in_id(prefix: &str, arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in arn.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut id = prefix.to_string();
    for i in 0..17 {
        let shift = (i * 5) % 60;
        let idx = ((h >> shift) ^ (i as u64)) & 31;
        id.push(char::from(
            ALPHABET.get(idx as usize).copied().unwrap_or(b'A'),
        ));
    }
    id
}

/// Adds the keys AWS derives from the caller and the resource, unless the request set them.
fn derive_context(ctx: &mut Context, p: &RequestPrincipal, resource_account: Option<&str>) {
    let one = |s: &str| vec![s.to_string()];
    if let Some(acct) = &p.account {
        ctx.insert_default("aws:PrincipalArn", one(&p.principal_arn));
        ctx.insert_default("aws:PrincipalAccount", one(acct));
    }
    if let Some(t) = p.principal_type() {
        ctx.insert_default("aws:PrincipalType", one(t));
    }
    // Only signed requests carry aws:PrincipalIsAWSService; an anonymous one has no such key.
    if p.kind != CallerKind::Anonymous {
        let is_service = matches!(p.kind, CallerKind::Service(_));
        ctx.insert_default(
            "aws:PrincipalIsAWSService",
            one(if is_service { "true" } else { "false" }),
        );
    }
    match &p.kind {
        CallerKind::Service(s) => ctx.insert_default("aws:PrincipalServiceName", one(s)),
        CallerKind::User(name) => ctx.insert_default("aws:username", one(name)),
        _ => {}
    }
    if let Some(userid) = userid(p) {
        ctx.insert_default("aws:userid", one(&userid));
    }
    if let Some(a) = resource_account {
        ctx.insert_default("aws:ResourceAccount", one(a));
    }
}
