//! Issue 13: every VPC reaches ssm, ssmmessages, ec2messages, kms and the bucket, through
//! endpoints whose policies allow the agent's calls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::{json, Value};
use ssmlog_check::{check, CheckOptions, Finding, ProofKind, Report, Severity};
use ssmlog_render::{parse_config, render, Profile, EXAMPLE_CONFIG};
use ssmlog_state::{
    EndpointKind, RegionNetwork, Route, RouteTable, RouteTarget, State, Subnet, Vpc, VpcEndpoint,
};

const MEMBER: &str = "222233334444";

fn example() -> (State, CheckOptions) {
    let cfg = parse_config("examples/ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        ..CheckOptions::default()
    };
    (render(&cfg, Profile::Hardened), options)
}

fn interface(id: &str, region: &str, svc: &str) -> VpcEndpoint {
    VpcEndpoint {
        id: id.into(),
        kind: EndpointKind::Interface,
        service_name: format!("com.amazonaws.{region}.{svc}"),
        private_dns: true,
        subnets: vec!["subnet-private".into()],
        route_tables: Vec::new(),
        policy: None,
    }
}

fn s3_gateway(region: &str) -> VpcEndpoint {
    VpcEndpoint {
        id: "vpce-s3".into(),
        kind: EndpointKind::Gateway,
        service_name: format!("com.amazonaws.{region}.s3"),
        private_dns: false,
        subnets: Vec::new(),
        route_tables: vec!["rtb-private".into()],
        policy: None,
    }
}

/// Every endpoint the agent needs in `region` (S3 as a gateway endpoint).
fn all_endpoints(region: &str) -> Vec<VpcEndpoint> {
    vec![
        interface("vpce-ec2messages", region, "ec2messages"),
        interface("vpce-kms", region, "kms"),
        s3_gateway(region),
        interface("vpce-ssm", region, "ssm"),
        interface("vpce-ssmmessages", region, "ssmmessages"),
    ]
}

/// One VPC of MEMBER in `region`: a public subnet on the main table (internet gateway) and
/// a private subnet on its own table with `routes`.
fn with_vpc<'s>(
    state: &'s mut State,
    region: &str,
    routes: Vec<Route>,
    endpoints: Vec<VpcEndpoint>,
) -> &'s mut Vpc {
    state.networks.push(RegionNetwork {
        account: MEMBER.into(),
        region: region.into(),
        vpcs: vec![Vpc {
            id: "vpc-private".into(),
            subnets: vec![Subnet {
                id: "subnet-private".into(),
                route_table: Some("rtb-private".into()),
                map_public_ip_on_launch: Some(false),
            }],
            route_tables: vec![
                RouteTable {
                    id: "rtb-main".into(),
                    main: true,
                    routes: Vec::new(),
                },
                RouteTable {
                    id: "rtb-private".into(),
                    main: false,
                    routes,
                },
            ],
            endpoints,
        }],
    });
    state
        .networks
        .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    let n = state
        .networks
        .iter_mut()
        .find(|n| n.region == region)
        .unwrap();
    &mut n.vpcs[0]
}

fn route(target: RouteTarget, id: &str) -> Route {
    Route {
        destination: "0.0.0.0/0".into(),
        target,
        target_id: id.into(),
    }
}

fn errors<'r>(r: &'r Report, rule: &str) -> Vec<&'r Finding> {
    r.findings
        .iter()
        .filter(|f| f.rule == rule && f.severity == Severity::Error)
        .collect()
}

fn all_errors(r: &Report) -> Vec<String> {
    r.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {} | fix: {}", f.rule, f.message, f.fix))
        .collect()
}

fn failed_ids(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .proofs
        .iter()
        .filter(|p| !p.holds && p.kind == ProofKind::AgentCall)
        .map(|p| format!("{} {}", p.region.clone().unwrap_or_default(), p.id))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn endpoint_mut<'v>(vpc: &'v mut Vpc, id: &str) -> &'v mut VpcEndpoint {
    vpc.endpoints.iter_mut().find(|e| e.id == id).unwrap()
}

fn bucket_policy(s: &mut State) -> &mut Vec<Value> {
    s.bucket
        .policy
        .as_mut()
        .unwrap()
        .get_mut("Statement")
        .unwrap()
        .as_array_mut()
        .unwrap()
}

#[test]
fn a_private_vpc_without_endpoints_reaches_nothing_and_says_which_endpoints_to_add() {
    let (mut state, opts) = example();
    with_vpc(&mut state, "eu-west-1", Vec::new(), Vec::new());
    let r = check(&state, &opts);
    let f = errors(&r, "network-unreachable");
    assert_eq!(f.len(), 1, "{:#?}", all_errors(&r));
    let f = f[0];
    assert_eq!(f.account.as_deref(), Some(MEMBER));
    assert_eq!(f.region.as_deref(), Some("eu-west-1"));
    assert!(
        f.message
            .contains("VPC vpc-private subnets subnet-private (route table rtb-private)"),
        "{}",
        f.message
    );
    for svc in ["ssm", "ssmmessages", "ec2messages", "kms", "s3"] {
        assert!(
            f.message.contains(&format!("`{svc}` in eu-west-1")),
            "{}",
            f.message
        );
    }
    for fix in [
        "add an interface endpoint com.amazonaws.eu-west-1.ssmmessages to VPC vpc-private with private DNS on (in subnets subnet-private)",
        "add an interface endpoint com.amazonaws.eu-west-1.kms",
        "add an S3 gateway endpoint (com.amazonaws.eu-west-1.s3) to VPC vpc-private with route table rtb-private",
        "route 0.0.0.0/0 of rtb-private to a NAT gateway",
    ] {
        assert!(f.fix.contains(fix), "{}", f.fix);
    }
    assert!(!r.passed());
    // The public subnet-less main table has no instances: nothing said about it.
    assert!(!f.message.contains("rtb-main"));
    // A NAT route makes it reachable.
    let (mut state, opts) = example();
    with_vpc(
        &mut state,
        "eu-west-1",
        vec![route(RouteTarget::NatGateway, "nat-1")],
        Vec::new(),
    );
    let r = check(&state, &opts);
    assert!(all_errors(&r).is_empty(), "{:#?}", all_errors(&r));
}

#[test]
fn a_private_vpc_with_every_endpoint_passes_and_uploads_are_proven_through_the_endpoint() {
    let (mut state, mut opts) = example();
    opts.explain_account = Some(MEMBER.into()); // keep the proofs that hold
    let vpc = with_vpc(
        &mut state,
        "eu-west-1",
        Vec::new(),
        all_endpoints("eu-west-1"),
    );
    // Endpoint policies that allow just what the agent needs, to the organization.
    let org = json!({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}});
    endpoint_mut(vpc, "vpce-s3").policy = Some(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetEncryptionConfiguration", "s3:PutObject", "s3:PutObjectAcl"],
         "Resource": ["arn:aws:s3:::central-session-logs-111122223333", "arn:aws:s3:::central-session-logs-111122223333/*"],
         "Condition": org}]}));
    endpoint_mut(vpc, "vpce-ssmmessages").policy =
        Some(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "ssmmessages:*", "Resource": "*"}]}));
    let r = check(&state, &opts);
    assert!(all_errors(&r).is_empty(), "{:#?}", all_errors(&r));
    let through: Vec<&str> = r
        .proofs
        .iter()
        .filter(|p| {
            p.account.as_deref() == Some(MEMBER) && p.region.as_deref() == Some("eu-west-1")
        })
        .filter(|p| {
            p.context
                .iter()
                .any(|(k, v)| k == "aws:sourcevpce" && v == &["vpce-s3".to_string()])
        })
        .map(|p| p.id.as_str())
        .collect();
    assert!(through.contains(&"agent/s3:PutObject(vpce)"), "{through:?}");
    assert!(
        through.contains(&"agent/s3:GetEncryptionConfiguration(vpce)"),
        "{through:?}"
    );
    // The KMS endpoint has AWS's default policy: the session key's Decrypt is proven through it.
    assert!(
        r.proofs
            .iter()
            .any(|p| p.id == "agent/kms:Decrypt(session,vpce)"
                && p.holds
                && p.context
                    .iter()
                    .any(|(k, v)| k == "aws:sourcevpce" && v == &["vpce-kms".to_string()])),
        "{:?}",
        r.proofs.iter().map(|p| &p.id).collect::<Vec<_>>()
    );
    // S3 has no public path in this region any more: the upload is proven only through the endpoint.
    assert!(!r.proofs.iter().any(|p| p.id == "agent/s3:PutObject"
        && p.account.as_deref() == Some(MEMBER)
        && p.region.as_deref() == Some("eu-west-1")));
}

#[test]
fn an_s3_gateway_endpoint_does_not_reach_a_bucket_in_another_region() {
    let (mut state, opts) = example();
    // The bucket is in eu-west-1; this VPC is in us-east-1 with every endpoint of its own region.
    with_vpc(
        &mut state,
        "us-east-1",
        Vec::new(),
        all_endpoints("us-east-1"),
    );
    let r = check(&state, &opts);
    let f = errors(&r, "network-unreachable");
    assert_eq!(f.len(), 1, "{:#?}", all_errors(&r));
    assert!(
        f[0].message.contains("`s3` in eu-west-1"),
        "{}",
        f[0].message
    );
    assert!(!f[0].message.contains("`kms`"), "{}", f[0].message);
    assert!(
        f[0].message.contains("the S3 gateway endpoint vpce-s3 reaches S3 in us-east-1 only, and the bucket is in eu-west-1"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].fix.contains("S3 in eu-west-1 needs a NAT route"),
        "{}",
        f[0].fix
    );
}

#[test]
fn an_endpoint_policy_limited_to_other_buckets_denies_the_upload_and_names_the_statement_to_add() {
    let (mut state, opts) = example();
    let vpc = with_vpc(
        &mut state,
        "eu-west-1",
        Vec::new(),
        all_endpoints("eu-west-1"),
    );
    endpoint_mut(vpc, "vpce-s3").policy = Some(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::team-artifacts", "arn:aws:s3:::team-artifacts/*"]}]}));
    let r = check(&state, &opts);
    assert_eq!(
        failed_ids(&r),
        vec![
            "eu-west-1 agent/s3:GetEncryptionConfiguration(vpce)",
            "eu-west-1 agent/s3:PutObject(vpce)",
            "eu-west-1 agent/s3:PutObjectAcl(vpce)",
        ]
    );
    let f = errors(&r, "agent-call-denied");
    let put = f
        .iter()
        .find(|f| f.message.starts_with("s3:PutObject by"))
        .unwrap();
    assert!(
        put.message
            .contains("through endpoint vpce-s3 of VPC vpc-private"),
        "{}",
        put.message
    );
    assert!(
        put.fix.contains("add to the policy of endpoint vpce-s3 (accounts/222233334444/regions/eu-west-1/vpc-endpoints/vpce-s3.json) the statement {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:PutObject\", \"Resource\": \"arn:aws:s3:::central-session-logs-111122223333/222233334444/eu-west-1/"),
        "{}",
        put.fix
    );
    assert_eq!(
        put.file.as_deref(),
        Some("accounts/222233334444/regions/eu-west-1/vpc-endpoints/vpce-s3.json")
    );
}

#[test]
fn a_kms_endpoint_policy_must_allow_the_session_key_decrypt() {
    let (mut state, opts) = example();
    let vpc = with_vpc(
        &mut state,
        "eu-west-1",
        Vec::new(),
        all_endpoints("eu-west-1"),
    );
    endpoint_mut(vpc, "vpce-kms").policy = Some(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"}]}));
    let r = check(&state, &opts);
    assert_eq!(
        failed_ids(&r),
        vec!["eu-west-1 agent/kms:Decrypt(session,vpce)"]
    );
    let f = errors(&r, "agent-call-denied");
    assert!(
        f[0].fix.contains("add to the policy of endpoint vpce-kms"),
        "{}",
        f[0].fix
    );
    assert!(f[0].fix.contains("\"Action\": \"kms:Decrypt\", \"Resource\": \"arn:aws:kms:eu-west-1:111122223333:key/mrk-ssmlog-pending-session-key\""), "{}", f[0].fix);
}

#[test]
fn a_bucket_policy_requiring_another_endpoint_denies_uploads_through_this_one() {
    let deny_unless = |vpce: &str| {
        json!({"Sid": "UploadsOnlyThroughTheLoggingEndpoint", "Effect": "Deny", "Principal": "*",
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::central-session-logs-111122223333/222233334444/*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}})
    };
    // Both regions of the member go through endpoints, so every upload of it carries one.
    let build = |vpce: &str| {
        let (mut state, opts) = example();
        with_vpc(
            &mut state,
            "eu-west-1",
            Vec::new(),
            all_endpoints("eu-west-1"),
        );
        bucket_policy(&mut state).push(deny_unless(vpce));
        (state, opts)
    };
    let (state, opts) = build("vpce-0ther0000000");
    let r = check(&state, &opts);
    assert!(
        failed_ids(&r).contains(&"eu-west-1 agent/s3:PutObject(vpce)".to_string()),
        "{:?}",
        failed_ids(&r)
    );
    let f = errors(&r, "agent-call-denied");
    let put = f
        .iter()
        .find(|f| {
            f.message.contains("through endpoint vpce-s3")
                && f.message.starts_with("s3:PutObject by")
        })
        .unwrap();
    assert!(
        put.message.contains("denied by a Deny statement"),
        "{}",
        put.message
    );
    assert_eq!(
        put.statements[0].sid.as_deref(),
        Some("UploadsOnlyThroughTheLoggingEndpoint")
    );
    assert!(
        put.fix
            .contains("a condition on `aws:SourceVpce` must admit `vpce-s3`"),
        "{}",
        put.fix
    );
    // Requiring this very endpoint: eu-west-1 passes (its uploads carry it); us-east-1
    // has no known network, so its upload goes out publicly, without an endpoint: denied.
    let (state, opts) = build("vpce-s3");
    let r = check(&state, &opts);
    assert_eq!(
        failed_ids(&r),
        vec!["us-east-1 agent/s3:PutObject"],
        "{:#?}",
        all_errors(&r)
    );
}

#[test]
fn an_unknown_network_is_one_note_unless_the_config_expects_it() {
    let (state, mut opts) = example();
    let r = check(&state, &opts);
    let notes: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == "network-unknown")
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].severity, Severity::Note);
    assert!(
        notes[0]
            .message
            .contains("the network of 6 account/region(s)"),
        "{}",
        notes[0].message
    );
    assert!(r.passed());
    opts.networks_expected = vec![MEMBER.into()];
    let r = check(&state, &opts);
    let f = errors(&r, "network-unknown");
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|f| f.account.as_deref() == Some(MEMBER)));
    assert!(!r.passed());
}

#[test]
fn a_transit_gateway_default_route_is_not_proven() {
    let (mut state, opts) = example();
    with_vpc(
        &mut state,
        "eu-west-1",
        vec![route(RouteTarget::Other, "tgw-0123")],
        Vec::new(),
    );
    let r = check(&state, &opts);
    assert!(all_errors(&r).is_empty(), "{:#?}", all_errors(&r));
    let w: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == "network-unproven")
        .collect();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].severity, Severity::Warning);
    assert!(
        w[0].message.contains("0.0.0.0/0 goes to `tgw-0123`"),
        "{}",
        w[0].message
    );
}

#[test]
fn instance_roles_need_the_core_managed_policy_and_endpoint_policies_must_allow_the_core_calls() {
    let (mut state, opts) = example();
    state.producer = "pull".into();
    let r = check(&state, &opts);
    // A pulled existing role without AmazonSSMManagedInstanceCore: every core call denied.
    let denied: Vec<String> = failed_ids(&r);
    assert!(
        denied.contains(&"eu-west-1 agent/ssmmessages:OpenDataChannel".to_string()),
        "{denied:?}"
    );
    assert!(
        denied.contains(&"eu-west-1 agent/ssm:UpdateInstanceInformation".to_string()),
        "{denied:?}"
    );
    let f = errors(&r, "agent-call-denied");
    let open = f
        .iter()
        .find(|f| f.message.starts_with("ssmmessages:OpenDataChannel"))
        .unwrap();
    assert!(
        open.fix
            .contains("attach `arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore`"),
        "{}",
        open.fix
    );

    for acct in &mut state.accounts {
        for role in &mut acct.roles {
            role.managed_policy_arns =
                vec!["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore".into()];
        }
    }
    let r = check(&state, &opts);
    assert!(failed_ids(&r).is_empty(), "{:?}", failed_ids(&r));
    assert!(!r
        .findings
        .iter()
        .any(|f| f.rule == "instance-role-core-assumed"));

    // An ssmmessages endpoint whose policy allows only the control channel.
    let vpc = with_vpc(
        &mut state,
        "eu-west-1",
        Vec::new(),
        all_endpoints("eu-west-1"),
    );
    endpoint_mut(vpc, "vpce-ssmmessages").policy = Some(
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel"], "Resource": "*"}]}),
    );
    let r = check(&state, &opts);
    assert_eq!(
        failed_ids(&r),
        vec![
            "eu-west-1 agent/ssmmessages:CreateDataChannel",
            "eu-west-1 agent/ssmmessages:OpenDataChannel",
        ]
    );
    let f = errors(&r, "agent-call-denied");
    assert!(
        f.iter().all(|f| f
            .fix
            .contains("add to the policy of endpoint vpce-ssmmessages")),
        "{f:#?}"
    );
}

#[test]
fn rendered_states_assume_the_core_policy_and_say_so() {
    let (state, opts) = example();
    let r = check(&state, &opts);
    let notes: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == "instance-role-core-assumed")
        .collect();
    // Two existing roles (SSMInstanceRole and the Default Host Management role) per account.
    assert_eq!(notes.len(), 3 * 2, "{notes:#?}");
    assert!(notes.iter().all(|n| n.severity == Severity::Note));
    assert!(failed_ids(&r).is_empty());
}

/// Issue 13: a route to an internet gateway reaches the internet only for instances with a
/// public IP. From a subnet that assigns none it is a warning naming the subnet, the
/// gateway and the services, with the endpoints or NAT to add; from a subnet that does,
/// nothing; from a subnet whose setting the State does not know (a State written before
/// the field), proven as reachable with one note.
#[test]
fn an_internet_gateway_route_reaches_only_instances_with_a_public_ip() {
    let public_ip = |setting: Option<bool>, endpoints: Vec<VpcEndpoint>| {
        let (mut state, opts) = example();
        let vpc = with_vpc(
            &mut state,
            "eu-west-1",
            vec![route(RouteTarget::InternetGateway, "igw-0123")],
            endpoints,
        );
        vpc.subnets[0].map_public_ip_on_launch = setting;
        check(&state, &opts)
    };
    let rule = |r: &Report, rule: &str| -> Vec<Finding> {
        r.findings
            .iter()
            .filter(|f| f.rule == rule)
            .cloned()
            .collect()
    };

    let r = public_ip(Some(false), Vec::new());
    assert!(all_errors(&r).is_empty(), "{:#?}", all_errors(&r));
    assert!(r.passed());
    let w = rule(&r, "network-public-ip-only");
    assert_eq!(w.len(), 1, "{}", r.to_table());
    assert_eq!(w[0].severity, Severity::Warning);
    assert_eq!(w[0].account.as_deref(), Some(MEMBER));
    assert_eq!(w[0].region.as_deref(), Some("eu-west-1"));
    for part in [
        "instances in VPC vpc-private subnets subnet-private (route table rtb-private)",
        "only over internet gateway igw-0123, which needs a public IP",
        "MapPublicIpOnLaunch off",
        "`ssm` in eu-west-1",
        "`s3` in eu-west-1",
    ] {
        assert!(w[0].message.contains(part), "{}", w[0].message);
    }
    for part in [
        "route 0.0.0.0/0 of rtb-private to a NAT gateway",
        "com.amazonaws.eu-west-1.ssmmessages",
        "an S3 gateway endpoint for route table rtb-private",
    ] {
        assert!(w[0].fix.contains(part), "{}", w[0].fix);
    }
    assert!(w[0].is_network());

    // With every endpoint, the gateway is not needed: nothing to say.
    let r = public_ip(Some(false), all_endpoints("eu-west-1"));
    assert!(
        rule(&r, "network-public-ip-only").is_empty(),
        "{}",
        r.to_table()
    );
    // Only the services the endpoints do not serve are named.
    let mut some = all_endpoints("eu-west-1");
    some.retain(|e| e.id != "vpce-kms");
    let r = public_ip(Some(false), some);
    let w = rule(&r, "network-public-ip-only");
    assert_eq!(w.len(), 1, "{}", r.to_table());
    assert!(
        w[0].message.contains("reach `kms` in eu-west-1 only"),
        "{}",
        w[0].message
    );

    // A subnet that assigns public IPs reaches everything over the gateway.
    let r = public_ip(Some(true), Vec::new());
    assert!(rule(&r, "network-public-ip-only").is_empty());
    assert!(rule(&r, "network-public-ip-unknown").is_empty());
    assert!(r.passed());

    // Unknown: proven as reachable, with one note naming the subnet.
    let r = public_ip(None, Vec::new());
    assert!(rule(&r, "network-public-ip-only").is_empty());
    let n = rule(&r, "network-public-ip-unknown");
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].severity, Severity::Note);
    assert!(
        n[0].message
            .contains("222233334444 eu-west-1 subnet-private"),
        "{}",
        n[0].message
    );
    assert!(r.passed());

    // A NAT route serves every instance, public IP or not.
    let (mut state, opts) = example();
    with_vpc(
        &mut state,
        "eu-west-1",
        vec![
            route(RouteTarget::InternetGateway, "igw-0123"),
            route(RouteTarget::NatGateway, "nat-0123"),
        ],
        Vec::new(),
    );
    let r = check(&state, &opts);
    assert!(
        rule(&r, "network-public-ip-only").is_empty(),
        "{}",
        r.to_table()
    );
}

/// Issue 13: a network `pull` could not read is an `unreachable` entry of a region that
/// is otherwise in the State: `check` names it as the network, with the EC2 reads to allow,
/// and does not count it again as an unknown network.
#[test]
fn a_network_pull_could_not_read_is_named_as_not_proven() {
    let (mut state, opts) = example();
    state.unreachable.push(ssmlog_state::Unreachable {
        account: MEMBER.into(),
        region: Some("eu-west-1".into()),
        reason: "account 222233334444: ec2:DescribeVpcs in eu-west-1: UnauthorizedOperation: You are not authorized to perform this operation.".into(),
    });
    let r = check(&state, &opts);
    let f = errors(&r, "unreachable");
    assert_eq!(f.len(), 1, "{}", r.to_table());
    assert!(
        f[0].message.starts_with(
            "the network of account 222233334444 in eu-west-1 could not be read by `pull`, so whether the agent reaches ssm, ssmmessages, ec2messages, kms and s3 there is not proven: account 222233334444: ec2:DescribeVpcs"
        ),
        "{}",
        f[0].message
    );
    assert!(
        f[0].fix.contains("`ec2:DescribeRouteTables`"),
        "{}",
        f[0].fix
    );
    assert!(!r.passed());
    let unknown: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == "network-unknown")
        .collect();
    assert!(
        unknown
            .iter()
            .all(|f| !f.message.contains("222233334444 eu-west-1")),
        "{unknown:#?}"
    );
}
