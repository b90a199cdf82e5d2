//! Issue 13, live: `pull` reads the network of a member account through the EC2 API, and
//! `check` and `verify` prove it. Against a moto server on 127.0.0.1, with VPCs, subnets,
//! route tables and endpoints made by the real `aws` CLI in the member account (through its
//! `OrganizationAccountAccessRole`, as an administrator would): a private VPC without
//! endpoints (unreachable, named), a private VPC with every interface endpoint and the S3
//! gateway endpoint (passes), then that endpoint's policy limited to other buckets (the
//! upload is denied), and an account whose EC2 calls are denied (the network is named
//! unreachable, never "no VPCs").
//!
//! moto's default VPCs have no internet gateway; `Moto::organization` gives them one with
//! the default route, as AWS's default VPCs have (see `ssmlog_moto::Moto::default_vpcs_as_in_aws`).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure is the report"
)]

use std::sync::Arc;
use std::time::Duration;

use ssmlog_aws::{
    converge, pull, verify, Aws, ConnectOptions, ConvergeOptions, Status, VerifyOptions,
};
use ssmlog_check::{CheckOptions, Report, Severity};
use ssmlog_moto::{ConfigShape, Creds, Moto, Proxy, ENV};
use ssmlog_render::{parse_config, render, Profile};
use ssmlog_state::{RouteTarget, State};

const REGION: &str = "eu-west-1";

fn connect(rt: &tokio::runtime::Runtime, url: String) -> Arc<Aws> {
    for (k, v) in ENV {
        std::env::set_var(k, v);
    }
    let options = ConnectOptions {
        region: Some("us-east-1".to_string()),
        endpoint_url: Some(url),
        ..ConnectOptions::default()
    };
    Arc::new(rt.block_on(Aws::connect(options)).unwrap())
}

/// Runs the `aws` CLI in the member account, in REGION, and returns the text `--query` picks.
fn ec2(moto: &Moto, c: &Creds, args: &[&str]) -> String {
    let mut all = vec!["ec2"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--region", REGION]);
    let v = moto.aws(Some(c), &all);
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn errors<'r>(r: &'r Report, rule: &str) -> Vec<&'r ssmlog_check::Finding> {
    r.findings
        .iter()
        .filter(|f| f.rule == rule && f.severity == Severity::Error)
        .collect()
}

fn network_errors(r: &Report) -> Vec<String> {
    r.findings
        .iter()
        .filter(|f| f.severity == Severity::Error && f.is_network())
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect()
}

#[test]
fn issue_13_pulled_networks_are_proven_by_check_and_verify() {
    let Some(moto) = Moto::start() else { return };
    let org = moto.organization(&["net"]);
    let m = org.members[0].clone();
    let text = org.config_text(&ConfigShape {
        regions: &[REGION],
        ..ConfigShape::default()
    });
    let cfg = parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let desired = render(&cfg, Profile::Hardened);
    let options = CheckOptions::from_config(&cfg);
    let rt = ssmlog_aws::runtime().unwrap();
    let aws = connect(&rt, moto.url());
    let applied = rt.block_on(converge(
        aws.clone(),
        &desired,
        &ConvergeOptions {
            apply: true,
            concurrency: 4,
            ..ConvergeOptions::default()
        },
    ));
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);
    let pull_and_check = |aws: Arc<Aws>| -> (State, Report) {
        let pulled = rt.block_on(pull(aws, &desired, 4, None));
        assert!(pulled.errors.is_empty(), "{:?}", pulled.errors);
        let report = ssmlog_check::check(&pulled.state, &options);
        (pulled.state, report)
    };

    // The default VPC, as AWS makes it: an internet gateway and public subnets. It passes.
    let (state, report) = pull_and_check(aws.clone());
    let net = state.network(&m, REGION).unwrap();
    assert_eq!(net.vpcs.len(), 1, "{net:#?}");
    let default = &net.vpcs[0];
    assert!(default
        .subnets
        .iter()
        .all(|s| s.map_public_ip_on_launch == Some(true) && s.route_table.is_none()));
    let main = default.route_tables.iter().find(|t| t.main).unwrap();
    assert!(
        main.routes
            .iter()
            .any(|r| r.destination == "0.0.0.0/0" && r.target == RouteTarget::InternetGateway),
        "{main:?}"
    );
    assert!(report.passed(), "{}", report.to_table());
    assert!(calls_of(&aws, "ec2:DescribeVpcEndpoints") >= 1);

    // A private VPC without endpoints, and one with every endpoint the agent needs.
    let c = moto.assume(&m);
    let lonely = ec2(
        &moto,
        &c,
        &[
            "create-vpc",
            "--cidr-block",
            "10.1.0.0/16",
            "--query",
            "Vpc.VpcId",
        ],
    );
    let lonely_subnet = ec2(
        &moto,
        &c,
        &[
            "create-subnet",
            "--vpc-id",
            &lonely,
            "--cidr-block",
            "10.1.1.0/24",
            "--query",
            "Subnet.SubnetId",
        ],
    );
    let private = ec2(
        &moto,
        &c,
        &[
            "create-vpc",
            "--cidr-block",
            "10.2.0.0/16",
            "--query",
            "Vpc.VpcId",
        ],
    );
    let subnet = ec2(
        &moto,
        &c,
        &[
            "create-subnet",
            "--vpc-id",
            &private,
            "--cidr-block",
            "10.2.1.0/24",
            "--query",
            "Subnet.SubnetId",
        ],
    );
    let table = ec2(
        &moto,
        &c,
        &[
            "create-route-table",
            "--vpc-id",
            &private,
            "--query",
            "RouteTable.RouteTableId",
        ],
    );
    ec2(
        &moto,
        &c,
        &[
            "associate-route-table",
            "--route-table-id",
            &table,
            "--subnet-id",
            &subnet,
        ],
    );
    for svc in ["ssm", "ssmmessages", "ec2messages", "kms"] {
        ec2(
            &moto,
            &c,
            &[
                "create-vpc-endpoint",
                "--vpc-id",
                &private,
                "--vpc-endpoint-type",
                "Interface",
                "--service-name",
                &format!("com.amazonaws.{REGION}.{svc}"),
                "--subnet-ids",
                &subnet,
                "--private-dns-enabled",
                "--query",
                "VpcEndpoint.VpcEndpointId",
            ],
        );
    }
    let s3 = ec2(
        &moto,
        &c,
        &[
            "create-vpc-endpoint",
            "--vpc-id",
            &private,
            "--vpc-endpoint-type",
            "Gateway",
            "--service-name",
            &format!("com.amazonaws.{REGION}.s3"),
            "--route-table-ids",
            &table,
            "--query",
            "VpcEndpoint.VpcEndpointId",
        ],
    );

    let (state, report) = pull_and_check(aws.clone());
    let net = state.network(&m, REGION).unwrap();
    assert_eq!(net.vpcs.len(), 3, "{net:#?}");
    let vpc = net.vpcs.iter().find(|v| v.id == private).unwrap();
    assert_eq!(vpc.endpoints.len(), 5, "{vpc:#?}");
    // AWS's default policy is recorded as no policy file; the gateway endpoint's own route
    // is its route table, not a route.
    assert!(vpc.endpoints.iter().all(|e| e.policy.is_none()), "{vpc:#?}");
    let gateway = vpc.endpoints.iter().find(|e| e.id == s3).unwrap();
    assert_eq!(
        gateway.route_tables.as_slice(),
        std::slice::from_ref(&table)
    );
    let own = vpc.route_tables.iter().find(|t| t.id == table).unwrap();
    assert!(own.routes.is_empty(), "{own:?}");
    assert_eq!(vpc.subnets[0].route_table.as_deref(), Some(table.as_str()));
    assert_eq!(vpc.subnets[0].map_public_ip_on_launch, Some(false));
    // Only the VPC without endpoints fails, named with its subnet and what to add.
    let f = errors(&report, "network-unreachable");
    assert_eq!(
        network_errors(&report).len(),
        1,
        "{:#?}",
        network_errors(&report)
    );
    assert_eq!(f.len(), 1, "{}", report.to_table());
    assert!(
        f[0].message
            .contains(&format!("VPC {lonely} subnets {lonely_subnet}")),
        "{}",
        f[0].message
    );
    assert!(
        f[0].fix.contains(&format!(
            "add an interface endpoint com.amazonaws.{REGION}.ssmmessages to VPC {lonely}"
        )),
        "{}",
        f[0].fix
    );
    assert!(!report
        .findings
        .iter()
        .any(|f| f.message.contains(&private) && f.severity == Severity::Error));

    // verify shows the same, live, on the account and region's row.
    let day = VerifyOptions {
        since: Duration::from_secs(86_400),
        concurrency: 4,
        progress: None,
        check: options.clone(),
    };
    let v = rt.block_on(verify(aws.clone(), &desired, &day));
    let row = v.row(&m, REGION).unwrap();
    assert_eq!(row.network, Status::Failed, "{}", v.to_table());
    assert!(
        v.findings
            .iter()
            .any(|f| f.rule == "network-unreachable" && f.message.contains(&lonely)),
        "{}",
        v.to_table()
    );
    assert!(v.to_table().contains("NETWORK"), "{}", v.to_table());

    // Without the subnet, that VPC holds no instance. The S3 endpoint's policy, limited to
    // other buckets, now denies the upload through it.
    ec2(&moto, &c, &["delete-subnet", "--subnet-id", &lonely_subnet]);
    let other = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::team-artifacts","arn:aws:s3:::team-artifacts/*"]}]}"#;
    ec2(
        &moto,
        &c,
        &[
            "modify-vpc-endpoint",
            "--vpc-endpoint-id",
            &s3,
            "--policy-document",
            other,
        ],
    );
    let (state, report) = pull_and_check(aws.clone());
    let policy = state
        .network(&m, REGION)
        .unwrap()
        .vpcs
        .iter()
        .find(|v| v.id == private)
        .unwrap()
        .endpoints
        .iter()
        .find(|e| e.id == s3)
        .unwrap()
        .policy
        .clone();
    assert!(policy.is_some_and(|p| p.to_string().contains("team-artifacts")));
    let denied: Vec<_> = errors(&report, "agent-call-denied")
        .into_iter()
        .filter(|f| {
            f.message.starts_with("s3:PutObject by")
                && f.message
                    .contains(&format!("through endpoint {s3} of VPC {private}"))
        })
        .collect();
    assert_eq!(denied.len(), 1, "{}", report.to_table());
    assert!(
        denied[0]
            .fix
            .contains(&format!("add to the policy of endpoint {s3}")),
        "{}",
        denied[0].fix
    );
    assert_eq!(
        denied[0].file.as_deref(),
        Some(format!("accounts/{m}/regions/{REGION}/vpc-endpoints/{s3}.json").as_str())
    );
    let v = rt.block_on(verify(aws.clone(), &desired, &day));
    assert_eq!(
        v.row(&m, REGION).unwrap().network,
        Status::Failed,
        "{}",
        v.to_table()
    );
    assert!(
        v.findings
            .iter()
            .any(|f| f.rule == "agent-call-denied" && f.message.contains(&s3)),
        "{}",
        v.to_table()
    );

    // AWS's default policy again: everything passes, and verify's network is ok.
    let full = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
    ec2(
        &moto,
        &c,
        &[
            "modify-vpc-endpoint",
            "--vpc-endpoint-id",
            &s3,
            "--policy-document",
            full,
        ],
    );
    let (_, report) = pull_and_check(aws.clone());
    assert!(report.passed(), "{}", report.to_table());
    let v = rt.block_on(verify(aws.clone(), &desired, &day));
    assert_eq!(
        v.row(&m, REGION).unwrap().network,
        Status::Ok,
        "{}",
        v.to_table()
    );
    assert!(
        v.findings.iter().all(|f| f.rule == "no-log-yet"),
        "{}",
        v.to_table()
    );

    // EC2 denied in the region: the network is unreachable, named, never "no VPCs".
    let proxy = Proxy::start(moto.port());
    proxy.deny_ec2_region(Some(REGION));
    let through = connect(&rt, proxy.url());
    let pulled = rt.block_on(pull(through.clone(), &desired, 4, None));
    assert_eq!(pulled.errors.len(), 1, "{:?}", pulled.errors);
    assert!(pulled.state.network(&m, REGION).is_none());
    let lost = &pulled.state.unreachable;
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(
        (lost[0].account.as_str(), lost[0].region.as_deref()),
        (m.as_str(), Some(REGION))
    );
    assert!(
        lost[0].reason.contains("ec2:DescribeVpcs")
            && lost[0].reason.contains("UnauthorizedOperation"),
        "{lost:?}"
    );
    // The region itself was read: its preferences are proven, its network is not.
    assert!(pulled.state.accounts[0]
        .regions
        .iter()
        .any(|r| r.name == REGION && r.preferences.is_some()));
    let dir = std::env::temp_dir().join(format!("ssmlog-live-network-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    ssmlog_state::write_dir(&pulled.state, &dir).unwrap();
    let read = ssmlog_state::read_dir(&dir).unwrap();
    let report = ssmlog_check::check(&read, &options);
    let f = errors(&report, "unreachable");
    assert_eq!(f.len(), 1, "{}", report.to_table());
    assert!(
        f[0].message.starts_with(&format!(
            "the network of account {m} in {REGION} could not be read by `pull`"
        )),
        "{}",
        f[0].message
    );
    assert!(
        f[0].fix.contains("ec2:DescribeVpcEndpoints"),
        "{}",
        f[0].fix
    );
    assert!(!report.passed());
    let v = rt.block_on(verify(through, &desired, &day));
    assert_eq!(
        v.row(&m, REGION).unwrap().network,
        Status::Unknown,
        "{}",
        v.to_table()
    );
    assert!(
        v.findings
            .iter()
            .any(|f| f.rule == "aws-error" && f.message.contains("UnauthorizedOperation")),
        "{}",
        v.to_table()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn calls_of(aws: &Aws, op: &str) -> u64 {
    aws.calls.snapshot().get(op).copied().unwrap_or(0)
}
