//! `ssmlog check` on 1,000 member accounts x 17 regions (the example config, scaled), on one
//! core. Target: under 1 second for the whole proof.
//!
//!     cargo bench -q -p ssmlog-bench --bench check

use std::hint::black_box;

use ssmlog_bench::{best_of, scaled_config};
use ssmlog_check::{check, CheckOptions};
use ssmlog_render::{parse_config, regions::DEFAULT_REGIONS, render, Profile};
use ssmlog_state::{
    EndpointKind, RegionNetwork, Route, RouteTable, RouteTarget, State, Subnet, Vpc, VpcEndpoint,
};

/// 10 VPCs in every account and region (issue 13): a public subnet and a private one, both
/// routed to NAT, with interface endpoints (private DNS) for ssm, ssmmessages, ec2messages
/// and kms, and an S3 gateway endpoint on the private table whose policy allows the agent's
/// uploads to the bucket only; every request through an endpoint is proven with its policy.
fn with_networks(state: &mut State) {
    let bucket = state.bucket.name.clone();
    let s3_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*",
         "Action": ["s3:GetEncryptionConfiguration", "s3:PutObject", "s3:PutObjectAcl"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]});
    let nat = || Route {
        destination: "0.0.0.0/0".into(),
        target: RouteTarget::NatGateway,
        target_id: "nat-0123".into(),
    };
    for a in &state.accounts {
        for r in &a.regions {
            let vpcs = (0..10)
                .map(|i| {
                    let id = |kind: &str| format!("{kind}-{i:02}{}", &a.id[..6]);
                    let interface = |svc: &str| VpcEndpoint {
                        id: id(&format!("vpce-{svc}")),
                        kind: EndpointKind::Interface,
                        service_name: format!("com.amazonaws.{}.{svc}", r.name),
                        private_dns: true,
                        subnets: vec![id("subnet-private")],
                        route_tables: Vec::new(),
                        policy: None,
                    };
                    let mut endpoints: Vec<VpcEndpoint> =
                        ["ec2messages", "kms", "ssm", "ssmmessages"]
                            .iter()
                            .map(|s| interface(s))
                            .collect();
                    endpoints.push(VpcEndpoint {
                        id: id("vpce-s3"),
                        kind: EndpointKind::Gateway,
                        service_name: format!("com.amazonaws.{}.s3", r.name),
                        private_dns: false,
                        subnets: Vec::new(),
                        route_tables: vec![id("rtb-private")],
                        policy: Some(s3_policy.clone()),
                    });
                    Vpc {
                        id: id("vpc"),
                        subnets: vec![
                            Subnet {
                                id: id("subnet-private"),
                                route_table: Some(id("rtb-private")),
                            },
                            Subnet {
                                id: id("subnet-public"),
                                route_table: None,
                            },
                        ],
                        route_tables: vec![
                            RouteTable {
                                id: id("rtb-main"),
                                main: true,
                                routes: vec![nat()],
                            },
                            RouteTable {
                                id: id("rtb-private"),
                                main: false,
                                routes: vec![nat()],
                            },
                        ],
                        endpoints,
                    }
                })
                .collect();
            state.networks.push(RegionNetwork {
                account: a.id.clone(),
                region: r.name.clone(),
                vpcs,
            });
        }
    }
}

fn main() {
    let text = scaled_config(1000);
    let cfg = match parse_config("scaled.toml", &text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scaled config invalid: {e:?}");
            std::process::exit(2)
        }
    };
    let state = render(&cfg, Profile::Hardened);
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        explain_account: None,
        bucket_administrators: Vec::new(),
        ..CheckOptions::default()
    };
    let report = check(&state, &options);
    let per_region: usize = report
        .rows
        .iter()
        .map(|r| r.calls_ok + r.calls_failed)
        .sum();
    println!(
        "accounts: {}, regions: {}, agent calls proven: {per_region}, decisions: {}",
        state.accounts.len(),
        DEFAULT_REGIONS.len(),
        report.decisions
    );
    let t = best_of(5, || {
        black_box(check(black_box(&state), &options));
    });
    println!(
        "check (1,000 accounts x 17 regions, hardened): {:.3} s best of 5 (target < 1 s)",
        t.as_secs_f64()
    );
    let mut networked = state.clone();
    with_networks(&mut networked);
    let report = check(&networked, &options);
    let calls: usize = report.rows.iter().map(|r| r.calls_ok).sum();
    let failed: usize = report.rows.iter().map(|r| r.calls_failed).sum();
    println!(
        "with 10 VPCs per account-region ({} VPCs): agent calls proven: {calls} ({failed} failing), decisions: {}, errors: {}",
        networked.vpcs_known(),
        report.decisions,
        report.findings.iter().filter(|f| f.severity == ssmlog_check::Severity::Error).count()
    );
    let t = best_of(3, || {
        black_box(check(black_box(&networked), &options));
    });
    println!(
        "check (1,000 accounts x 17 regions x 10 VPCs, hardened): {:.3} s best of 3",
        t.as_secs_f64()
    );
    let seed = render(&cfg, Profile::Seed);
    let t = best_of(5, || {
        black_box(check(black_box(&seed), &options));
    });
    println!(
        "check (1,000 accounts x 17 regions, seed, with findings): {:.3} s best of 5",
        t.as_secs_f64()
    );
}
