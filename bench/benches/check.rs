//! `ssmlog check` on 1,000 member accounts x 17 regions (the example config, scaled), on one
//! core. Target: under 1 second for the whole proof.
//!
//!     cargo bench -q -p ssmlog-bench --bench check
//!
//! `SSMLOG_CHECK_CASES=tree,networks` runs only those cases (of hardened, tree, networks,
//! seed), for a profiler.

use std::hint::black_box;

/// The allocator of the `ssmlog` binary, whose `check` this stands for: the proof builds
/// many short-lived requests, and on glibc's allocator malloc and free were about 40% of
/// its instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use ssmlog_bench::{best_of, scaled_config};
use ssmlog_check::{check, CheckOptions, GuardrailOptions};
use ssmlog_render::{parse_config, regions::DEFAULT_REGIONS, render, Profile};
use ssmlog_state::{
    EndpointKind, NamedPolicy, OrgAccount, OrgTree, OrgUnit, RegionNetwork, Route, RouteTable,
    RouteTarget, State, Subnet, TargetPolicies, Vpc, VpcEndpoint,
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
                                map_public_ip_on_launch: Some(false),
                            },
                            Subnet {
                                id: id("subnet-public"),
                                route_table: None,
                                map_public_ip_on_launch: Some(true),
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
    let cases = std::env::var("SSMLOG_CHECK_CASES").ok();
    let run = |case: &str| {
        cases
            .as_deref()
            .is_none_or(|c| c.split(',').any(|c| c.trim() == case))
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
    if run("hardened") {
        let t = best_of(5, || {
            black_box(check(black_box(&state), &options));
        });
        println!(
            "check (1,000 accounts x 17 regions, hardened): {:.3} s best of 5 (target < 1 s)",
            t.as_secs_f64()
        );
    }
    if run("tree") {
        tree(&text, &options);
    }
    if run("networks") {
        networks(&state, &options);
    }
    if run("seed") {
        // The guardrail config, as this case has always run.
        let cfg = parse_config("scaled.toml", &with_guardrails(&text)).unwrap_or_else(|e| {
            eprintln!("scaled config with guardrails invalid: {e:?}");
            std::process::exit(2)
        });
        let seed = render(&cfg, Profile::Seed);
        let t = best_of(5, || {
            black_box(check(black_box(&seed), &options));
        });
        println!(
            "check (1,000 accounts x 17 regions, seed, with findings): {:.3} s best of 5",
            t.as_secs_f64()
        );
    }
}

/// The scaled config with guardrails at the root and a reader role.
fn with_guardrails(text: &str) -> String {
    text.replacen(
        "# streaming_enabled = true",
        "# streaming_enabled = true\n[guardrails]\nattach_to = [\"r-ab12\"]\ndeploy_roles = [\"arn:aws:iam::*:role/ssmlog-deploy\"]\nport_forwarding = [\"arn:aws:iam::*:role/NetworkAdmin\"]\n[readers]\nroles = [\"arn:aws:iam::555566667777:role/SecurityAuditor\"]\n",
        1,
    )
}

fn tree(text: &str, options: &CheckOptions) {
    // Issue 12: the same accounts in an OU tree of depth 5 (two OUs under the root and under
    // each OU, accounts spread over the 32 deepest), `FullAWSAccess` at every node as AWS
    // keeps it, the guardrail SCP at the root and at an OU, the perimeter RCP, readers, and
    // every guardrail probe and exemption proven.
    let cfg = parse_config("scaled.toml", &with_guardrails(text)).unwrap_or_else(|e| {
        eprintln!("scaled config with guardrails invalid: {e:?}");
        std::process::exit(2)
    });
    let mut tree_state = render(&cfg, Profile::Hardened);
    in_tree(&mut tree_state, 5);
    let Some(g) = cfg.guardrails.clone() else {
        eprintln!("scaled config has no guardrails");
        std::process::exit(2)
    };
    let tree_options = CheckOptions {
        guardrails: Some(GuardrailOptions {
            deploy_roles: g.deploy_roles,
            port_forwarding: g.port_forwarding,
            session_documents: g.session_documents,
        }),
        readers: cfg.readers.clone(),
        ..options.clone()
    };
    let report = check(&tree_state, &tree_options);
    let failing = report.proofs.iter().filter(|p| !p.holds).count();
    println!(
        "OU tree of depth 5: {} OUs, passed: {}, failing proofs: {failing}, decisions: {}",
        tree_state
            .organization
            .tree
            .as_ref()
            .map_or(0, |t| t.units.len()),
        report.passed(),
        report.decisions
    );
    let t = best_of(5, || {
        black_box(check(black_box(&tree_state), &tree_options));
    });
    println!(
        "check (1,000 accounts x 17 regions, OU tree of depth 5, guardrails and readers, hardened): {:.3} s best of 5 (target < 1 s)",
        t.as_secs_f64()
    );
}

fn networks(state: &State, options: &CheckOptions) {
    let mut networked = state.clone();
    with_networks(&mut networked);
    let report = check(&networked, options);
    let calls: usize = report.rows.iter().map(|r| r.calls_ok).sum();
    let failed: usize = report.rows.iter().map(|r| r.calls_failed).sum();
    println!(
        "with 10 VPCs per account-region ({} VPCs): agent calls proven: {calls} ({failed} failing), decisions: {}, errors: {}",
        networked.vpcs_known(),
        report.decisions,
        report.findings.iter().filter(|f| f.severity == ssmlog_check::Severity::Error).count()
    );
    let t = best_of(3, || {
        black_box(check(black_box(&networked), options));
    });
    println!(
        "check (1,000 accounts x 17 regions x 10 VPCs, hardened): {:.3} s best of 3",
        t.as_secs_f64()
    );
}

/// Puts the State's accounts into a tree of `depth` OU levels, two OUs under each node, the
/// accounts spread over the deepest; `FullAWSAccess` on every OU and account, and a copy of
/// the guardrail SCP on the first OU of the second level.
fn in_tree(state: &mut State, depth: u32) {
    let root = "r-ab12".to_string();
    let mut units = Vec::new();
    let mut level = vec![root.clone()];
    for d in 0..depth {
        let mut next = Vec::new();
        for (i, parent) in level.iter().enumerate() {
            for j in 0..2 {
                let id = format!("ou-ab12-{d}{:07}", i * 2 + j);
                units.push(OrgUnit {
                    id: id.clone(),
                    name: None,
                    parent: parent.clone(),
                });
                next.push(id);
            }
        }
        level = next;
    }
    let mut accounts: Vec<OrgAccount> = state
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| OrgAccount {
            id: a.id.clone(),
            parent: level[i % level.len()].clone(),
        })
        .collect();
    accounts.push(OrgAccount {
        id: state.log_archive.account_id.clone(),
        parent: root.clone(),
    });
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    let full = state.scps[0].policies[0].clone();
    let guardrail: NamedPolicy = state.scps[0].policies[1].clone();
    for u in &units {
        let mut policies = vec![full.clone()];
        if u.id == "ou-ab12-10000000" {
            policies.push(guardrail.clone());
        }
        state.scps.push(TargetPolicies {
            target: u.id.clone(),
            policies,
        });
    }
    for a in &accounts {
        state.scps.push(TargetPolicies {
            target: a.id.clone(),
            policies: vec![full.clone()],
        });
    }
    state.organization.tree = Some(OrgTree {
        root,
        units,
        accounts,
    });
}
