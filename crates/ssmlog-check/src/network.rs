//! Can the agent reach what it needs, and do the VPC endpoints on the way let it through?
//!
//! Per member account and region with a known network (`State::networks`), per VPC and per
//! route table that subnets use: each service the agent calls (`ssm`, `ssmmessages`,
//! `ec2messages`, `kms` of the region, `s3` of the bucket's region) must be reachable, over
//! a route to the internet (internet or NAT gateway) or through a VPC endpoint (an interface
//! endpoint with private DNS on, VPC-wide; for S3 also a gateway endpoint in the route
//! table, which reaches its own region only). A request through an endpoint is proven again
//! with the endpoint's policy and `aws:SourceVpce`/`aws:SourceVpc` in its context, so
//! bucket and key policy conditions on them are honoured; requests that take no public
//! path are proven only there ([`Public`]).
//!
//! The agent's core calls (`ssm:UpdateInstanceInformation`, `ssmmessages:*Channel`,
//! `ec2messages:*`) are proven for every instance role, as `AmazonSSMManagedInstanceCore`
//! grants them.

use ssmlog_iam::{Decision, Gap, Policy, PolicyKind};
use ssmlog_state::{layout, EndpointKind, Region, RegionNetwork, RouteTarget, Vpc, VpcEndpoint};

use crate::agent::{self, found, AccountScope, Preferences};
use crate::prepare::Prepared;
use crate::prover::{context, Prover, Spec};
use crate::report::{ProofKind, Severity};

/// The AWS managed policy that grants the agent its core calls.
pub(crate) const MANAGED_CORE: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
/// Default Host Management Configuration's managed policy: the same core calls.
pub(crate) const MANAGED_DHMC: &str =
    "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy";

/// The core calls of the agent for Session Manager, by service.
const CORE_CALLS: [(&str, &str); 11] = [
    ("ssm", "ssm:UpdateInstanceInformation"),
    ("ssmmessages", "ssmmessages:CreateControlChannel"),
    ("ssmmessages", "ssmmessages:CreateDataChannel"),
    ("ssmmessages", "ssmmessages:OpenControlChannel"),
    ("ssmmessages", "ssmmessages:OpenDataChannel"),
    ("ec2messages", "ec2messages:AcknowledgeMessage"),
    ("ec2messages", "ec2messages:DeleteMessage"),
    ("ec2messages", "ec2messages:FailMessage"),
    ("ec2messages", "ec2messages:GetEndpoint"),
    ("ec2messages", "ec2messages:GetMessages"),
    ("ec2messages", "ec2messages:SendReply"),
];

/// The services the agent must reach, in the order findings list them.
const SERVICES: [&str; 5] = ["ssm", "ssmmessages", "ec2messages", "kms", "s3"];

/// The core-call grants of the two managed policies (only the actions above; the policies
/// grant more, which the proof does not need).
fn core_grant() -> Policy {
    let actions: Vec<&str> = CORE_CALLS.iter().map(|(_, a)| *a).collect();
    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    // A fixed, valid document: parsing cannot fail.
    Policy::parse(
        "AmazonSSMManagedInstanceCore (agent core calls)",
        &doc.to_string(),
        PolicyKind::Identity,
    )
    .unwrap_or_else(|_| unreachable!("the built-in core grant parses"))
}

/// Which of the agent's requests leave the region's VPCs by a public path (internet or NAT,
/// an unknown route, or an unknown network): those are proven without an endpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Public {
    pub(crate) s3: bool,
    pub(crate) kms: bool,
}

impl Public {
    pub(crate) const ALL: Public = Public {
        s3: true,
        kms: true,
    };
}

/// What the network proof needs beyond the State, prepared once.
pub(crate) struct Network {
    core: Policy,
    /// Does any policy of the State mention `aws:SourceVpc`/`aws:SourceVpce`? If not, a
    /// request through an endpoint with the default policy decides as without it.
    source_vpc_matters: bool,
    /// Accounts whose network must be known (`*` for all).
    expected: Vec<String>,
    /// Account/regions whose network is unknown and not expected, for one note at the end.
    unknown: Vec<(String, String)>,
    /// Subnets routed to an internet gateway whose public-IP setting the State does not
    /// know (`account region subnet`), for one note at the end.
    public_ip_unknown: Vec<String>,
    /// `State::networks` by account and region.
    index: std::collections::HashMap<(String, String), usize>,
}

/// The identity an instance role's core calls are proven with.
pub(crate) struct CoreRole {
    identity: Vec<Policy>,
}

/// How a route table's subnets reach one service.
enum Path<'v> {
    Endpoint(&'v VpcEndpoint),
    /// Over a default route to a NAT gateway (any instance).
    Nat,
    /// Over a default route to this internet gateway only: for instances with a public IP.
    InternetGateway(&'v str),
    Unknown(String),
    None(String),
}

impl Network {
    pub(crate) fn new(prep: &Prepared<'_>, expected: &[String]) -> Self {
        let s = prep.state;
        let mentions =
            |v: &serde_json::Value| v.to_string().to_ascii_lowercase().contains("aws:sourcevpc");
        let source_vpc_matters = s.bucket.policy.iter().any(mentions)
            || s.keys
                .iter()
                .filter_map(|k| k.policy.as_ref())
                .any(mentions)
            || s.scps
                .iter()
                .chain(&s.rcps)
                .flat_map(|t| &t.policies)
                .any(|p| mentions(&p.document))
            || s.accounts
                .iter()
                .flat_map(|a| &a.roles)
                .flat_map(|r| &r.policies)
                .any(|p| mentions(&p.document));
        Network {
            core: core_grant(),
            source_vpc_matters,
            expected: expected.to_vec(),
            unknown: Vec::new(),
            public_ip_unknown: Vec::new(),
            index: s
                .networks
                .iter()
                .enumerate()
                .map(|(i, n)| ((n.account.clone(), n.region.clone()), i))
                .collect(),
        }
    }

    /// The known network of `account` in `region`.
    fn network<'s>(
        &self,
        prep: &Prepared<'s>,
        account: &str,
        region: &str,
    ) -> Option<&'s RegionNetwork> {
        let i = self.index.get(&(account.to_string(), region.to_string()))?;
        prep.state.networks.get(*i)
    }

    /// The core-call identity of each instance role of account `index`: its inline
    /// policies, plus the core grant when a managed policy that grants it is attached, or
    /// assumed (with a note) when the State cannot say.
    pub(crate) fn core_roles(
        &self,
        prep: &Prepared<'_>,
        prover: &mut Prover,
        index: usize,
    ) -> Vec<CoreRole> {
        let acct = &prep.state.accounts[index];
        let pulled = prep.state.producer == "pull";
        acct.roles
            .iter()
            .zip(&prep.roles[index])
            .map(|(role, prepared)| {
                let mut identity = prepared.policies.clone();
                let known = role
                    .managed_policy_arns
                    .iter()
                    .any(|m| m == MANAGED_CORE || m == MANAGED_DHMC);
                let others: Vec<&str> = role
                    .managed_policy_arns
                    .iter()
                    .filter(|m| *m != MANAGED_CORE && *m != MANAGED_DHMC)
                    .map(String::as_str)
                    .collect();
                let unsure = if known {
                    None
                } else if !others.is_empty() {
                    Some(format!("its managed policies {} are not in the State", others.join(", ")))
                } else if !pulled && role.kind != ssmlog_state::RoleKind::Created {
                    Some("a rendered State does not list an existing role's managed policies".to_string())
                } else {
                    None
                };
                if known || unsure.is_some() {
                    identity.push(self.core.clone());
                }
                if let Some(why) = unsure {
                    prover.finding(found(
                        "instance-role-core-assumed",
                        Severity::Note,
                        &acct.id,
                        None,
                        format!("role `{}` is assumed to have `AmazonSSMManagedInstanceCore` or an equivalent for the agent's core calls (ssm, ssmmessages, ec2messages): {why}", role.name),
                        format!("`ssmlog pull` the State to prove it, or attach `{MANAGED_CORE}` to `{}`", role.name),
                        None,
                    ));
                }
                CoreRole { identity }
            })
            .collect()
    }

    /// Which requests of `account` in `region` take a public path; see [`Public`]. A
    /// known network without a subnet holds no instance: its requests are proven as
    /// without a network.
    pub(crate) fn public(&self, prep: &Prepared<'_>, account: &str, region: &str) -> Public {
        let Some(net) = self.network(prep, account, region) else {
            return Public::ALL;
        };
        let mut public = Public {
            s3: false,
            kms: false,
        };
        let mut any = false;
        for vpc in &net.vpcs {
            for (table, _) in scopes(vpc) {
                any = true;
                let s3 = path(vpc, table, "s3", &prep.state.bucket.region);
                let kms = path(vpc, table, "kms", region);
                public.s3 |= !matches!(s3, Path::Endpoint(_));
                public.kms |= !matches!(kms, Path::Endpoint(_));
            }
        }
        if any {
            public
        } else {
            Public::ALL
        }
    }

    /// The network proof of one account in one region, and the core calls of its roles.
    pub(crate) fn prove_region(
        &mut self,
        prep: &Prepared<'_>,
        prover: &mut Prover,
        scope: &AccountScope<'_>,
        core: &[CoreRole],
        region: &Region,
    ) {
        let a = scope.account.id.as_str();
        let r = region.name.as_str();
        // Identity and SCPs, whatever the path: once per account and role.
        for (ri, role) in scope.roles.iter().enumerate() {
            for (_, action) in CORE_CALLS {
                self.core_call(prep, prover, scope, core, ri, role, action, r, None);
            }
        }
        let Some(net) = self.network(prep, a, r) else {
            let unread = prep
                .state
                .unreachable
                .iter()
                .any(|u| u.account == a && u.region.as_deref() == Some(r));
            if unread {
                // `pull` could not read it: already an error (rule `unreachable`).
            } else if self.expected.iter().any(|e| e == "*" || e == a) {
                prover.finding(found(
                    "network-unknown",
                    Severity::Error,
                    a,
                    Some(r),
                    format!("the network of {a} in {r} is not in the State, and the config expects it: whether the agent reaches ssm, ssmmessages, ec2messages, kms and s3 is not proven"),
                    "pull the State (`ssmlog pull` reads the VPCs of every member account and region), or record this account and region's VPCs in the State's `networks[]` (docs/STATE.md)".into(),
                    None,
                ));
            } else {
                self.unknown.push((a.to_string(), r.to_string()));
            }
            return;
        };
        let bucket_region = prep.state.bucket.region.as_str();
        let mut same: std::collections::HashMap<(&str, String), usize> =
            std::collections::HashMap::new();
        for vpc in &net.vpcs {
            let mut used: Vec<(&str, &VpcEndpoint)> = Vec::new();
            for (table, subnets) in scopes(vpc) {
                let mut unreachable = Vec::new();
                let mut unknown = Vec::new();
                let mut by_igw: Vec<(&str, &str, &str)> = Vec::new();
                for svc in SERVICES {
                    let in_region = if svc == "s3" { bucket_region } else { r };
                    match path(vpc, table, svc, in_region) {
                        Path::Endpoint(e) => {
                            if !used.iter().any(|(_, u)| u.id == e.id) {
                                used.push((svc, e));
                            }
                        }
                        Path::Nat => {}
                        Path::InternetGateway(igw) => by_igw.push((svc, in_region, igw)),
                        Path::Unknown(why) => unknown.push((svc, in_region, why)),
                        Path::None(why) => unreachable.push((svc, in_region, why)),
                    }
                }
                let place = format!(
                    "VPC {} subnets {} (route table {table})",
                    vpc.id,
                    subnets.join(", ")
                );
                if !unreachable.is_empty() {
                    let what: Vec<String> = unreachable
                        .iter()
                        .map(|(svc, reg, why)| format!("`{svc}` in {reg} ({why})"))
                        .collect();
                    let fixes: Vec<String> = unreachable
                        .iter()
                        .map(|(svc, reg, _)| fix_endpoint(vpc, table, svc, reg, r, &subnets))
                        .collect();
                    prover.finding(found(
                        "network-unreachable",
                        Severity::Error,
                        a,
                        Some(r),
                        format!("the agent on instances in {place} cannot reach {}: sessions there fail or their logs are lost", what.join(", ")),
                        format!("{}; or route 0.0.0.0/0 of {table} to a NAT gateway", fixes.join("; ")),
                        None,
                    ));
                }
                if !by_igw.is_empty() {
                    self.public_ip_only(prover, a, r, vpc, table, &subnets, &by_igw);
                }
                if !unknown.is_empty() {
                    let what: Vec<String> = unknown
                        .iter()
                        .map(|(svc, reg, why)| format!("`{svc}` in {reg} ({why})"))
                        .collect();
                    prover.finding(found(
                        "network-unproven",
                        Severity::Warning,
                        a,
                        Some(r),
                        format!("not proven that the agent on instances in {place} reaches {}", what.join(", ")),
                        "make sure that route leads to NAT or to endpoints for these services, or add interface endpoints with private DNS to this VPC".into(),
                        None,
                    ));
                }
            }
            for (svc, e) in used {
                // When nothing looks at the endpoint or the VPC, an endpoint policy decides
                // as any other with the same text in this account and region did.
                let key = (!self.source_vpc_matters).then(|| {
                    let text = e
                        .policy
                        .as_ref()
                        .map_or_else(String::new, |p| p.to_string());
                    (svc, text)
                });
                if let Some(n) = key.as_ref().and_then(|k| same.get(k)) {
                    prover.count_ok(a, r, *n);
                    continue;
                }
                let (held, n) =
                    self.through_endpoint(prep, prover, scope, core, region, vpc, svc, e);
                if let (true, Some(k)) = (held, key) {
                    same.insert(k, n);
                }
            }
        }
    }

    /// The requests of `svc` through endpoint `e`, for every role.
    #[allow(clippy::too_many_arguments)]
    fn through_endpoint(
        &self,
        prep: &Prepared<'_>,
        prover: &mut Prover,
        scope: &AccountScope<'_>,
        core: &[CoreRole],
        region: &Region,
        vpc: &Vpc,
        svc: &'static str,
        e: &VpcEndpoint,
    ) -> (bool, usize) {
        let a = scope.account.id.as_str();
        let r = region.name.as_str();
        let file = layout::endpoint_policy(a, r, &e.id);
        let mut lints = Vec::new();
        let policy = e.policy.as_ref().and_then(|doc| {
            crate::prepare::parse(&file, doc, PolicyKind::VpcEndpointPolicy, &mut lints)
        });
        for f in lints {
            prover.finding(f);
        }
        if policy.is_none() && e.policy.is_some() {
            return (false, 0); // invalid: reported by its lint findings
        }
        let core_service = !matches!(svc, "s3" | "kms");
        if policy.is_none() && !self.source_vpc_matters && core_service {
            // AWS's default policy, and nothing looks at the endpoint: the core calls are
            // proven without it in every region. (S3 and KMS calls with no public path are
            // proven only here.)
            return (false, 0);
        }
        let via = Via {
            endpoint: e,
            vpc,
            policy: policy.as_ref(),
            file: &file,
        };
        let (mut held, mut n) = (true, 0);
        for (ri, role) in scope.roles.iter().enumerate() {
            match svc {
                "s3" | "kms" => {
                    let (h, k) = self.agent_calls(prep, prover, scope, region, role, svc, &via);
                    held &= h;
                    n += k;
                }
                _ => {
                    for (_, action) in CORE_CALLS.iter().filter(|(s, _)| *s == svc) {
                        held &= self.core_call(
                            prep,
                            prover,
                            scope,
                            core,
                            ri,
                            role,
                            action,
                            r,
                            Some(&via),
                        );
                        n += 1;
                    }
                }
            }
        }
        (held, n)
    }

    #[allow(clippy::too_many_arguments)]
    fn core_call(
        &self,
        prep: &Prepared<'_>,
        prover: &mut Prover,
        scope: &AccountScope<'_>,
        core: &[CoreRole],
        ri: usize,
        role: &crate::prepare::PreparedRole,
        action: &'static str,
        r: &str,
        via: Option<&Via<'_>>,
    ) -> bool {
        let a = scope.account.id.as_str();
        let memo = via
            .is_none()
            .then_some((scope.index, ri, action, true, None));
        if memo.is_some_and(|k| prover.memo_held(&k, a, r)) {
            return true;
        }
        let Ok(principal) = &role.session else {
            return false; // reported by the agent proof
        };
        let resource = if action == "ssm:UpdateInstanceInformation" {
            format!("arn:aws:ec2:{r}:{a}:instance/{}", agent::TARGET_ID)
        } else {
            "*".to_string()
        };
        let org = prep.state.organization.id.as_str();
        let mut ctx = vec![("aws:PrincipalOrgID", org), ("aws:SecureTransport", "true")];
        if let Some(v) = via {
            ctx.extend(v.context());
        }
        let purpose = || {
            match via {
            Some(v) => format!(
                "the agent's core call through endpoint {} of VPC {}; a denial takes the instance off Session Manager",
                v.endpoint.id, v.vpc.id
            ),
            None => "a core call of the agent (as AmazonSSMManagedInstanceCore grants it); a denial takes the instance off Session Manager".to_string(),
        }
        };
        let fix = |d: &Decision| {
            let mut out = Vec::new();
            if d.gaps.contains(&Gap::Identity) {
                out.push(format!(
                    "attach `{MANAGED_CORE}` (or a policy allowing `{action}`) to role `{}` in account {a}",
                    role.name
                ));
            }
            if let Some(v) = via.filter(|_| d.gaps.contains(&Gap::VpcEndpoint)) {
                out.push(v.fix(action, &resource));
            }
            if out.is_empty() {
                agent::fix_for_call(d, action, &resource, role, a, org)
            } else {
                out.join("; ")
            }
        };
        prover.prove_via(
            Spec {
                id: action,
                kind: ProofKind::AgentCall,
                account: Some(a),
                region: Some(r),
                principal,
                in_management_account: prep.is_management(a),
                action,
                resource: &resource,
                resource_account: a,
                context: context(&ctx),
                purpose: &purpose,
                identity: &core[ri].identity,
                resource_policy: None,
                resource_file: None,
                scps: &scope.scps,
                rcps: &[],
                fix: &fix,
                memo: via
                    .is_none()
                    .then_some((scope.index, ri, action, true, None)),
            },
            via.and_then(|v| v.policy.map(|p| (p, v.file))),
        )
    }

    /// The S3 or KMS calls of the agent through an endpoint, as `agent` proves them
    /// without one.
    #[allow(clippy::too_many_arguments)]
    fn agent_calls(
        &self,
        prep: &Prepared<'_>,
        prover: &mut Prover,
        scope: &AccountScope<'_>,
        region: &Region,
        role: &crate::prepare::PreparedRole,
        svc: &str,
        via: &Via<'_>,
    ) -> (bool, usize) {
        let a = scope.account.id.as_str();
        let r = region.name.as_str();
        let Some(doc) = &region.preferences else {
            return (false, 0);
        };
        let prefs = Preferences::read(doc);
        if prefs.bucket != prep.state.bucket.name {
            return (false, 0); // reported by the agent proof
        }
        let Ok(principal) = &role.session else {
            return (false, 0);
        };
        let org = prep.state.organization.id.as_str();
        let la = prep.state.log_archive.account_id.as_str();
        let object_arn = format!("{}/{}", prep.bucket_arn, prefs.object_key());
        let mut calls: Vec<Call<'_>> = Vec::new();
        if svc == "s3" {
            let mut base = vec![("aws:PrincipalOrgID", org), ("aws:SecureTransport", "true")];
            base.extend(via.context());
            let bp = prep.bucket_policy.as_ref();
            if prefs.encryption {
                calls.push((
                    "s3:GetEncryptionConfiguration(vpce)",
                    "s3:GetEncryptionConfiguration",
                    prep.bucket_arn.clone(),
                    context(&base),
                    bp,
                    layout::BUCKET_POLICY.to_string(),
                ));
            }
            let mut put = base.clone();
            put.extend(agent::upload_context(prep, &prefs));
            for (id, action) in [
                ("s3:PutObject(vpce)", "s3:PutObject"),
                ("s3:PutObjectAcl(vpce)", "s3:PutObjectAcl"),
            ] {
                calls.push((
                    id,
                    action,
                    object_arn.clone(),
                    context(&put),
                    bp,
                    layout::BUCKET_POLICY.to_string(),
                ));
            }
        } else if let Some(k2) = (!prefs.kms_key_id.is_empty())
            .then(|| prep.find_key(&prefs.kms_key_id))
            .flatten()
        {
            let mut extra = vec![("aws:PrincipalOrgID", org)];
            extra.extend(via.context());
            calls.push((
                "kms:Decrypt(session,vpce)",
                "kms:Decrypt",
                k2.key.arn.clone(),
                agent::session_context(&extra, a),
                k2.policy.as_ref(),
                k2.file.clone(),
            ));
        }
        let (mut held, n) = (true, calls.len());
        for (id, action, resource, ctx, resource_policy, resource_file) in calls {
            let purpose = || {
                format!(
                    "the agent's `{action}` through endpoint {} of VPC {}; a denial {}",
                    via.endpoint.id,
                    via.vpc.id,
                    if svc == "s3" {
                        "loses the session's log"
                    } else {
                        "stops encrypted sessions"
                    }
                )
            };
            let fix = |d: &Decision| {
                let mut out = Vec::new();
                if d.gaps.contains(&Gap::VpcEndpoint) {
                    out.push(via.fix(action, &resource));
                }
                let rest: Vec<Gap> = d
                    .gaps
                    .iter()
                    .filter(|g| **g != Gap::VpcEndpoint)
                    .cloned()
                    .collect();
                if !rest.is_empty() || d.decision == ssmlog_iam::Outcome::ExplicitlyDenied {
                    let d = Decision {
                        gaps: rest,
                        ..d.clone()
                    };
                    out.push(agent::fix_for_call(&d, action, &resource, role, a, org));
                    if d.decision == ssmlog_iam::Outcome::ExplicitlyDenied {
                        out.push(format!("a condition on `aws:SourceVpce` must admit `{}` (the endpoint of VPC {})", via.endpoint.id, via.vpc.id));
                    }
                }
                out.join("; ")
            };
            held &= prover.prove_via(
                Spec {
                    id,
                    kind: ProofKind::AgentCall,
                    account: Some(a),
                    region: Some(r),
                    principal,
                    in_management_account: prep.is_management(a),
                    action,
                    resource: &resource,
                    resource_account: la,
                    context: ctx,
                    purpose: &purpose,
                    identity: &role.policies,
                    resource_policy,
                    resource_file: Some(&resource_file),
                    scps: &scope.scps,
                    rcps: &prep.rcps,
                    fix: &fix,
                    memo: None,
                },
                via.policy.map(|p| (p, via.file)),
            );
        }
        (held, n)
    }

    /// Services reached only over a route to an internet gateway: instances reach them only
    /// with a public IP. A subnet that assigns none (`MapPublicIpOnLaunch` off) is a
    /// warning (an instance may still have an Elastic IP or a public IP asked for at
    /// launch, which the State does not record); one whose setting is unknown is counted
    /// for a note.
    #[allow(clippy::too_many_arguments)]
    fn public_ip_only(
        &mut self,
        prover: &mut Prover,
        a: &str,
        r: &str,
        vpc: &Vpc,
        table: &str,
        subnets: &[&str],
        by_igw: &[(&str, &str, &str)],
    ) {
        let setting = |id: &str| {
            vpc.subnets
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.map_public_ip_on_launch)
        };
        let private: Vec<&str> = subnets
            .iter()
            .copied()
            .filter(|s| setting(s) == Some(false))
            .collect();
        for s in subnets.iter().filter(|s| setting(s).is_none()) {
            self.public_ip_unknown.push(format!("{a} {r} {s}"));
        }
        if private.is_empty() {
            return;
        }
        let services: Vec<String> = by_igw
            .iter()
            .map(|(svc, reg, _)| format!("`{svc}` in {reg}"))
            .collect();
        let igw = by_igw.first().map_or("", |(_, _, id)| *id);
        let endpoints: Vec<String> = by_igw
            .iter()
            .map(|(svc, reg, _)| match *svc {
                "s3" if *reg == r => format!("an S3 gateway endpoint for route table {table}"),
                // A gateway endpoint never leaves its region: only NAT reaches that bucket.
                "s3" => format!("none reaches S3 in {reg} from {r}: NAT only"),
                svc => format!("com.amazonaws.{reg}.{svc}"),
            })
            .collect();
        prover.finding(found(
            "network-public-ip-only",
            Severity::Warning,
            a,
            Some(r),
            format!(
                "instances in VPC {} subnets {} (route table {table}) reach {} only over internet gateway {igw}, which needs a public IP, and these subnets assign none (MapPublicIpOnLaunch off): an instance without an Elastic IP or a public IP asked for at launch cannot reach them, so its sessions fail and its logs are lost",
                vpc.id,
                private.join(", "),
                services.join(", ")
            ),
            format!(
                "route 0.0.0.0/0 of {table} to a NAT gateway, or add the endpoints ({}) with private DNS, or give the instances public IPs (`aws ec2 modify-subnet-attribute --map-public-ip-on-launch`)",
                endpoints.join(", ")
            ),
            None,
        ));
    }

    /// One note for every account/region whose network is unknown and not expected, and one
    /// for subnets routed to an internet gateway whose public-IP setting is unknown.
    pub(crate) fn finish(self, prover: &mut Prover) {
        let k = self.public_ip_unknown.len();
        if k > 0 {
            let shown: Vec<&str> = self
                .public_ip_unknown
                .iter()
                .take(3)
                .map(String::as_str)
                .collect();
            prover.finding(found(
                "network-public-ip-unknown",
                Severity::Note,
                "",
                None,
                format!(
                    "{k} subnet(s) ({}{}) reach services only over an internet gateway, and the State does not say whether they assign public IPs (`mapPublicIpOnLaunch`): proven as if their instances had one",
                    shown.join(", "),
                    if k > 3 { ", …" } else { "" }
                ),
                "pull the State again (`ssmlog pull` records `mapPublicIpOnLaunch`), or set it in `networks[]`".into(),
                None,
            ));
        }
        let n = self.unknown.len();
        if n == 0 {
            return;
        }
        let shown: Vec<String> = self
            .unknown
            .iter()
            .take(3)
            .map(|(a, r)| format!("{a} {r}"))
            .collect();
        prover.finding(found(
            "network-unknown",
            Severity::Note,
            "",
            None,
            format!(
                "the network of {n} account/region(s) ({}{}) is not in the State: whether the agent reaches ssm, ssmmessages, ec2messages, kms and s3 there is not proven",
                shown.join(", "),
                if n > 3 { ", …" } else { "" }
            ),
            "prove a pulled State (`ssmlog pull` reads the VPCs), or record the VPCs in the State's `networks[]` (docs/STATE.md); list the accounts in the config's `[network] expected` to require them".into(),
            None,
        ));
    }
}

/// One call through an endpoint: proof id, action, resource, context, resource policy and
/// its file.
type Call<'p> = (
    &'static str,
    &'static str,
    String,
    ssmlog_iam::Context,
    Option<&'p Policy>,
    String,
);

/// A request's way through an endpoint.
struct Via<'a> {
    endpoint: &'a VpcEndpoint,
    vpc: &'a Vpc,
    policy: Option<&'a Policy>,
    file: &'a str,
}

impl Via<'_> {
    fn context(&self) -> [(&str, &str); 2] {
        [
            ("aws:SourceVpce", self.endpoint.id.as_str()),
            ("aws:SourceVpc", self.vpc.id.as_str()),
        ]
    }

    fn fix(&self, action: &str, resource: &str) -> String {
        format!(
            "add to the policy of endpoint {} ({}) the statement {{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"{action}\", \"Resource\": \"{resource}\"}}",
            self.endpoint.id, self.file
        )
    }
}

/// The route tables that subnets of `vpc` use, each with its subnets, in route-table order.
fn scopes(vpc: &Vpc) -> Vec<(&str, Vec<&str>)> {
    let main = vpc
        .route_tables
        .iter()
        .find(|t| t.main)
        .map_or("", |t| t.id.as_str());
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for t in &vpc.route_tables {
        let subnets: Vec<&str> = vpc
            .subnets
            .iter()
            .filter(|s| s.route_table.as_deref().unwrap_or(main) == t.id)
            .map(|s| s.id.as_str())
            .collect();
        if !subnets.is_empty() {
            out.push((t.id.as_str(), subnets));
        }
    }
    out
}

/// How subnets using route table `table` reach `svc` in `svc_region`. An endpoint takes the traffic whenever it applies, whatever else routes.
fn path<'v>(vpc: &'v Vpc, table: &str, svc: &str, svc_region: &str) -> Path<'v> {
    let name = format!("com.amazonaws.{svc_region}.{svc}");
    let mut no_dns = None;
    let mut gateway_elsewhere = None;
    for e in &vpc.endpoints {
        let (s, reg) = e.service();
        if s != svc {
            continue;
        }
        match e.kind {
            EndpointKind::Gateway if e.route_tables.iter().any(|t| t == table) => {
                if reg == svc_region {
                    return Path::Endpoint(e);
                }
                gateway_elsewhere = Some(e);
            }
            EndpointKind::Gateway => {}
            EndpointKind::Interface if e.service_name == name => {
                if e.private_dns {
                    return Path::Endpoint(e);
                }
                no_dns = Some(e);
            }
            EndpointKind::Interface => {}
        }
    }
    let routes = vpc
        .route_tables
        .iter()
        .find(|t| t.id == table)
        .map(|t| t.routes.as_slice())
        .unwrap_or_default();
    let default = routes
        .iter()
        .filter(|r| r.destination == "0.0.0.0/0")
        .map(|r| (r.target, r.target_id.as_str()));
    let (mut other, mut igw) = (None, None);
    for (target, id) in default {
        match target {
            RouteTarget::NatGateway => return Path::Nat,
            RouteTarget::InternetGateway => igw = Some(id),
            RouteTarget::Other => other = Some(id),
        }
    }
    if let Some(id) = igw {
        return Path::InternetGateway(id);
    }
    if let Some(id) = other {
        return Path::Unknown(format!(
            "0.0.0.0/0 goes to `{id}`, which ssmlog cannot follow"
        ));
    }
    let mut why = "no route to the internet".to_string();
    if let Some(e) = no_dns {
        why.push_str(&format!(
            ", and interface endpoint {} has private DNS off, so the agent does not use it",
            e.id
        ));
    } else {
        why.push_str(&format!(", and no endpoint for `{name}`"));
    }
    if let Some(e) = gateway_elsewhere {
        why.push_str(&format!(
            "; the S3 gateway endpoint {} reaches S3 in {} only, and the bucket is in {svc_region} (a gateway endpoint never leaves its region)",
            e.id,
            e.service().1
        ));
    }
    Path::None(why)
}

/// Which endpoint to add for `svc` in `svc_region` so subnets of `table` reach it.
fn fix_endpoint(
    vpc: &Vpc,
    table: &str,
    svc: &str,
    svc_region: &str,
    vpc_region: &str,
    subnets: &[&str],
) -> String {
    if let Some(e) = vpc.endpoints.iter().find(|e| {
        e.kind == EndpointKind::Interface
            && e.service_name == format!("com.amazonaws.{svc_region}.{svc}")
            && !e.private_dns
    }) {
        return format!("turn on private DNS of endpoint {}", e.id);
    }
    if svc == "s3" && svc_region == vpc_region {
        format!(
            "add an S3 gateway endpoint (com.amazonaws.{svc_region}.s3) to VPC {} with route table {table}",
            vpc.id
        )
    } else if svc == "s3" {
        format!(
            "S3 in {svc_region} needs a NAT route (or an S3 interface endpoint in {svc_region} reached over peering or transit, which ssmlog cannot prove); a gateway endpoint reaches only {vpc_region}"
        )
    } else {
        format!(
            "add an interface endpoint com.amazonaws.{svc_region}.{svc} to VPC {} with private DNS on (in subnets {})",
            vpc.id,
            subnets.join(", ")
        )
    }
}
