//! The decision: AWS's policy evaluation logic across accounts, with KMS's key-policy rule,
//! and an explanation of what matched and what was missing.

use serde::{Deserialize, Serialize};

use crate::input::{EvalInput, PolicySet, Request};
use crate::policy::{Effect, Policy, Statement, Subject};
use crate::principal::{excluded_by, CallerKind, PrincipalMatch};

/// The three answers AWS can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Some policy allows, every policy that must allow does, and nothing denies.
    Allowed,
    /// Nothing denies, but a needed Allow is missing.
    ImplicitlyDenied,
    /// A Deny statement matched.
    ExplicitlyDenied,
}

/// Where a policy takes part in the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyRole {
    /// An identity policy of the caller.
    Identity,
    /// The caller's permissions boundary.
    PermissionsBoundary,
    /// The session policy.
    SessionPolicy,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// The resource policy (bucket policy, key policy).
    Resource,
    /// The policy of the VPC endpoint the request goes through.
    VpcEndpoint,
}

/// A statement that matched the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRef {
    /// The policy's name.
    pub policy: String,
    /// The role that policy plays.
    pub kind: PolicyRole,
    /// Index in the policy's Statement list.
    pub index: usize,
    /// The statement's Sid.
    pub sid: Option<String>,
    /// Its effect.
    pub effect: Effect,
}

/// A grant that was needed and not found, for tools that turn a denial into a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// No SCP at this level of the caller's organization path allows the action.
    Scp(String),
    /// No RCP at this level of the resource's organization path allows it.
    Rcp(String),
    /// No identity policy of the caller allows it.
    Identity,
    /// The resource (or key) policy grants the caller nothing for it.
    ResourceGrant,
    /// There is no resource policy, and one is needed (cross-account, or a KMS key).
    NoResourcePolicy,
    /// The permissions boundary does not allow it.
    Boundary,
    /// The session policy does not allow it.
    SessionPolicy,
    /// The policy of the VPC endpoint the request goes through does not allow it.
    VpcEndpoint,
}

/// The decision with its explanation; the JSON form is documented in docs/iam-request.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Decision {
    /// Allowed, implicitly or explicitly denied.
    pub decision: Outcome,
    /// Were the caller and the resource in different accounts?
    pub cross_account: bool,
    /// Every statement that matched; denying statements first when denied.
    pub statements: Vec<StatementRef>,
    /// For an implicit deny: each needed grant that was not found, in words.
    pub missing: Vec<String>,
    /// The same gaps as `missing`, as values (not part of the JSON form).
    #[serde(skip)]
    pub gaps: Vec<Gap>,
}

/// Decides the request and explains the decision.
pub fn evaluate(input: &EvalInput) -> Decision {
    evaluate_request(&input.request, &input.policies())
}

/// Decides the request without building an explanation (the fast path for proofs).
pub fn decide(input: &EvalInput) -> Outcome {
    decide_request(&input.request, &input.policies())
}

/// [`evaluate`] on a request and borrowed policies.
pub fn evaluate_request(request: &Request, policies: &PolicySet<'_>) -> Decision {
    let mut ex = Explain {
        on: true,
        statements: Vec::new(),
        missing: Vec::new(),
        gaps: Vec::new(),
    };
    let decision = decide_with(&Input { request, policies }, &mut ex);
    let Explain {
        mut statements,
        missing,
        gaps,
        ..
    } = ex;
    if decision == Outcome::ExplicitlyDenied {
        statements.sort_by_key(|s| s.effect == Effect::Allow);
    }
    Decision {
        decision,
        cross_account: cross_account(request),
        statements,
        missing: if decision == Outcome::ImplicitlyDenied {
            missing
        } else {
            Vec::new()
        },
        gaps: if decision == Outcome::ImplicitlyDenied {
            gaps
        } else {
            Vec::new()
        },
    }
}

/// [`decide`] on a request and borrowed policies.
pub fn decide_request(request: &Request, policies: &PolicySet<'_>) -> Outcome {
    let mut ex = Explain {
        on: false,
        statements: Vec::new(),
        missing: Vec::new(),
        gaps: Vec::new(),
    };
    decide_with(&Input { request, policies }, &mut ex)
}

/// A request and its policies, as the evaluator reads them.
struct Input<'r, 'p> {
    request: &'r Request,
    policies: &'r PolicySet<'p>,
}

impl std::ops::Deref for Input<'_, '_> {
    type Target = Request;
    fn deref(&self) -> &Request {
        self.request
    }
}

/// Collects the explanation when `on`; costs nothing when off.
struct Explain {
    on: bool,
    statements: Vec<StatementRef>,
    missing: Vec<String>,
    gaps: Vec<Gap>,
}

impl Explain {
    fn statement(&mut self, policy: &Policy, role: PolicyRole, st: &Statement) {
        if self.on {
            self.statements.push(StatementRef {
                policy: policy.name.clone(),
                kind: role,
                index: st.index,
                sid: st.sid.clone(),
                effect: st.effect,
            });
        }
    }

    fn missing(&mut self, gap: Gap, why: impl FnOnce() -> String) {
        if self.on {
            self.missing.push(why());
            self.gaps.push(gap);
        }
    }
}

/// What one policy says about the request.
#[derive(Default, Clone, Copy)]
struct Verdict {
    deny: bool,
    /// The strongest way an Allow statement matched the caller, if any did.
    allow: Option<PrincipalMatch>,
}

fn cross_account(input: &Request) -> bool {
    input.principal.account.as_deref() != input.resource_account.as_deref()
}

fn decide_with(input: &Input<'_, '_>, ex: &mut Explain) -> Outcome {
    let pols = input.policies;
    let p = &input.principal;
    let iam_caller = p.is_iam();
    let scps_apply = iam_caller && !input.principal_in_management_account && !pols.scps.is_empty();
    let rcps_apply = !input.resource_in_management_account
        && !pols.rcps.is_empty()
        && !matches!(p.kind, CallerKind::Service(_));

    // Every policy is read once; a Deny anywhere decides, whatever else allows. Missing
    // grants are noted as found and kept only if the decision is an implicit deny.
    let mut deny = false;
    let mut verdict = |policy: &Policy, role: PolicyRole, ex: &mut Explain| {
        let v = policy_verdict(input.request, policy, role, ex);
        deny |= v.deny;
        v
    };
    let mut identity_allows = false;
    if iam_caller {
        for pl in pols.identity {
            identity_allows |= verdict(pl, PolicyRole::Identity, ex).allow.is_some();
        }
    }
    let boundary = pols
        .boundary
        .filter(|_| iam_caller)
        .map(|pl| verdict(pl, PolicyRole::PermissionsBoundary, ex));
    let session = pols
        .session_policy
        .filter(|_| iam_caller)
        .map(|pl| verdict(pl, PolicyRole::SessionPolicy, ex));
    let mut allowed = true;
    if scps_apply {
        for level in pols.scps {
            if !level_allows(&level.policies, PolicyRole::Scp, &mut verdict, ex) {
                allowed = false;
                ex.missing(Gap::Scp(level.target.clone()), || format!("no SCP attached to `{}` allows `{}` (every level of the organization path must allow)", level.target, input.action));
            }
        }
    }
    if rcps_apply {
        // AWS attaches RCPFullAWSAccess to the root, every OU and every account as soon as
        // RCPs are enabled, and it cannot be detached: each level allows everything, so the
        // customer's RCPs only deny (a level without an Allow does not implicitly deny).
        for level in pols.rcps {
            for pl in &level.policies {
                verdict(pl, PolicyRole::Rcp, ex);
            }
        }
    }
    let resource = pols
        .resource_policy
        .map(|pl| verdict(pl, PolicyRole::Resource, ex));
    // A request through a VPC endpoint must also be allowed by the endpoint's policy, for
    // every caller (it grants nothing: it only filters).
    if let Some(pl) = pols.vpc_endpoint {
        if verdict(pl, PolicyRole::VpcEndpoint, ex).allow.is_none() {
            allowed = false;
            ex.missing(Gap::VpcEndpoint, || {
                format!(
                    "the VPC endpoint policy `{}` does not allow `{}` on `{}` by `{}`",
                    pl.name, input.action, input.resource, p.arn
                )
            });
        }
    }
    if deny {
        return Outcome::ExplicitlyDenied;
    }

    let boundary_ok = boundary.is_none_or(|v| v.allow.is_some());
    let session_ok = session.is_none_or(|v| v.allow.is_some());
    let grant = resource.and_then(|v| v.allow);
    let same_account = !cross_account(input);
    let is_key = is_kms_key(&input.resource);
    let res_name = || {
        pols.resource_policy.map_or_else(
            || {
                if is_key {
                    "key policy".to_string()
                } else {
                    "resource policy".to_string()
                }
            },
            |pl| {
                format!(
                    "{} `{}`",
                    if is_key {
                        "key policy"
                    } else {
                        "resource policy"
                    },
                    pl.name
                )
            },
        )
    };
    let caller_account = p.account.clone().unwrap_or_else(|| "(none)".into());
    let no_identity = || {
        format!(
            "no identity policy of `{}` allows `{}` on `{}`",
            p.principal_arn, input.action, input.resource
        )
    };
    let no_grant = || {
        format!(
            "{} grants no principal of account {caller_account} `{}`",
            res_name(),
            input.action
        )
    };
    let boundary_msg = || {
        format!(
            "the permissions boundary `{}` does not allow `{}`",
            pols.boundary.map_or("", |b| b.name.as_str()),
            input.action
        )
    };
    let session_msg = || format!("the session policy does not allow `{}`", input.action);
    let limits = |ex: &mut Explain| {
        if !boundary_ok {
            ex.missing(Gap::Boundary, boundary_msg);
        }
        if !session_ok {
            ex.missing(Gap::SessionPolicy, session_msg);
        }
        boundary_ok && session_ok
    };

    let granted = if !iam_caller {
        // Anonymous callers and services have no identity policies: only a grant to them counts.
        if grant != Some(PrincipalMatch::Direct) {
            ex.missing(Gap::ResourceGrant, || {
                format!("{} grants nothing to `{}`", res_name(), p.arn)
            });
        }
        grant == Some(PrincipalMatch::Direct)
    } else if is_key && pols.resource_policy.is_none() {
        ex.missing(Gap::NoResourcePolicy, || {
            "a KMS key is only usable when its key policy allows; none was given".into()
        });
        false
    } else if same_account {
        match grant {
            // A grant naming the exact session or user is not limited by boundary or session policy.
            Some(PrincipalMatch::Direct) => true,
            Some(PrincipalMatch::Role) => limits(ex),
            // Naming the account delegates to its IAM policies (for KMS, this is the only
            // way IAM policies take part).
            Some(PrincipalMatch::Account) | None if is_key && grant.is_none() => {
                ex.missing(Gap::ResourceGrant, no_grant);
                if !identity_allows {
                    ex.missing(Gap::Identity, no_identity);
                }
                false
            }
            _ => {
                if !identity_allows {
                    ex.missing(Gap::Identity, no_identity);
                    false
                } else {
                    limits(ex)
                }
            }
        }
    } else {
        // Across accounts both sides must allow.
        let mut ok = true;
        if pols.resource_policy.is_none() {
            ex.missing(Gap::NoResourcePolicy, || format!("`{}` is in account {} and has no resource policy, so no caller from account {caller_account} can be granted", input.resource, input.resource_account.as_deref().unwrap_or("?")));
            ok = false;
        } else if grant.is_none() {
            ex.missing(Gap::ResourceGrant, no_grant);
            ok = false;
        }
        if !identity_allows {
            ex.missing(Gap::Identity, no_identity);
            ok = false;
        }
        ok && limits(ex)
    };
    if allowed && granted {
        Outcome::Allowed
    } else {
        Outcome::ImplicitlyDenied
    }
}

fn level_allows(
    policies: &[Policy],
    role: PolicyRole,
    verdict: &mut impl FnMut(&Policy, PolicyRole, &mut Explain) -> Verdict,
    ex: &mut Explain,
) -> bool {
    let mut any = false;
    for pl in policies {
        any |= verdict(pl, role, ex).allow.is_some();
    }
    any
}

fn is_kms_key(arn: &str) -> bool {
    crate::condition::split_arn(arn).is_some_and(|p| p[2] == "kms" && p[5].starts_with("key/"))
}

fn policy_verdict(input: &Request, policy: &Policy, role: PolicyRole, ex: &mut Explain) -> Verdict {
    let mut v = Verdict::default();
    for st in &policy.statements {
        let Some(m) = statement_matches(input, st, role) else {
            continue;
        };
        ex.statement(policy, role, st);
        match st.effect {
            Effect::Deny => v.deny = true,
            Effect::Allow => v.allow = v.allow.max(Some(m)),
        }
    }
    v
}

/// Does the statement apply to the request? Returns how the caller matched.
fn statement_matches(input: &Request, st: &Statement, role: PolicyRole) -> Option<PrincipalMatch> {
    let action_ok = match &st.action {
        Subject::Is(pats) => pats.iter().any(|p| p.matches(&input.action_lower)),
        Subject::Not(pats) => !pats.iter().any(|p| p.matches(&input.action_lower)),
        Subject::Absent => false,
    };
    if !action_ok {
        return None;
    }
    let ctx = &input.context;
    let resource_ok = match &st.resource {
        Subject::Absent => true,
        Subject::Is(ts) => ts.iter().any(|t| t.matches(ctx, &input.resource)),
        Subject::Not(ts) => !ts.iter().any(|t| t.matches(ctx, &input.resource)),
    };
    if !resource_ok {
        return None;
    }
    let m = match (&st.principal, role) {
        (
            Subject::Is(entries),
            PolicyRole::Resource | PolicyRole::Rcp | PolicyRole::VpcEndpoint,
        ) => entries
            .iter()
            .filter_map(|e| e.matches(&input.principal))
            .max()?,
        (
            Subject::Not(entries),
            PolicyRole::Resource | PolicyRole::Rcp | PolicyRole::VpcEndpoint,
        ) => {
            // AWS: a NotPrincipal + Deny statement always denies a user or role that has a
            // permissions boundary, whatever NotPrincipal names.
            let bounded = st.effect == Effect::Deny && input.has_permissions_boundary;
            if !bounded && excluded_by(entries, &input.principal) {
                return None;
            }
            PrincipalMatch::Direct
        }
        // A resource policy statement without Principal applies to nobody.
        (Subject::Absent, PolicyRole::Resource | PolicyRole::VpcEndpoint) => return None,
        _ => PrincipalMatch::Direct,
    };
    st.conditions.iter().all(|c| c.holds(ctx)).then_some(m)
}
