//! Issue 12 against moto: `pull` reads the organization's tree (root → OU → OU → account)
//! and the SCPs attached at each level, and `check` places an OU's SCP on exactly the
//! accounts below it. Skips without `moto_server`/`aws`, unless `SSMLOG_REQUIRE_TOOLS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure is the report"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use ssmlog_aws::{pull, Aws, ConnectOptions};
use ssmlog_check::{check, CheckOptions, ProofKind};
use ssmlog_moto::{ConfigShape, Moto, ENV};
use ssmlog_render::{parse_config, render, Profile};

fn id(v: &serde_json::Value, path: &[&str]) -> String {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_str()
        .unwrap_or_else(|| panic!("no {path:?} in {v}"))
        .to_string()
}

#[test]
fn pull_reads_the_tree_and_each_levels_scps_and_check_places_them() {
    let Some(moto) = Moto::start() else { return };
    let org = moto.organization(&["dev", "prod"]);
    let (dev, prod) = (org.members[0].clone(), org.members[1].clone());
    let roots = moto.aws(None, &["organizations", "list-roots"]);
    let root = roots["Roots"][0]["Id"].as_str().unwrap().to_string();
    let ou = |parent: &str, name: &str| {
        let out = moto.aws(
            None,
            &[
                "organizations",
                "create-organizational-unit",
                "--parent-id",
                parent,
                "--name",
                name,
            ],
        );
        id(&out, &["OrganizationalUnit", "Id"])
    };
    let workloads = ou(&root, "Workloads");
    let prod_ou = ou(&workloads, "Prod");
    moto.aws(
        None,
        &[
            "organizations",
            "move-account",
            "--account-id",
            &prod,
            "--source-parent-id",
            &root,
            "--destination-parent-id",
            &prod_ou,
        ],
    );
    let content = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"Deny","Effect":"Deny","Action":"kms:GenerateDataKey","Resource":"*"}]}"#;
    let policy = moto.aws(
        None,
        &[
            "organizations",
            "create-policy",
            "--name",
            "DenyKmsDataKeys",
            "--type",
            "SERVICE_CONTROL_POLICY",
            "--description",
            "test",
            "--content",
            content,
        ],
    );
    let policy_id = id(&policy, &["Policy", "PolicySummary", "Id"]);
    moto.aws(
        None,
        &[
            "organizations",
            "attach-policy",
            "--policy-id",
            &policy_id,
            "--target-id",
            &prod_ou,
        ],
    );

    let text = org.config_text(&ConfigShape {
        regions: &["eu-west-1"],
        create_role: None,
        retention: false,
        idle_session_timeout: None,
    });
    let cfg = parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let desired = render(&cfg, Profile::Hardened);
    for (k, v) in ENV {
        std::env::set_var(k, v);
    }
    let rt = ssmlog_aws::runtime().unwrap();
    let aws = rt.block_on(async {
        Arc::new(
            Aws::connect(ConnectOptions {
                region: Some("us-east-1".to_string()),
                endpoint_url: Some(moto.url()),
                ..ConnectOptions::default()
            })
            .await
            .unwrap(),
        )
    });
    let pulled = rt.block_on(pull(aws, &desired, 4, None));
    let org_errors: Vec<_> = pulled
        .errors
        .iter()
        .filter(|e| e.to_string().contains("organizations"))
        .collect();
    assert!(org_errors.is_empty(), "{org_errors:?}");
    let tree = pulled.state.organization.tree.clone().unwrap();
    assert_eq!(tree.root, root);
    let paths = tree.paths();
    assert_eq!(
        paths[prod.as_str()],
        [root.as_str(), &workloads, &prod_ou, &prod]
    );
    assert_eq!(paths[dev.as_str()], [root.as_str(), &dev]);
    assert_eq!(
        tree.units
            .iter()
            .find(|u| u.id == workloads)
            .and_then(|u| u.name.as_deref()),
        Some("Workloads")
    );
    let at_prod_ou = pulled
        .state
        .scps
        .iter()
        .find(|t| t.target == prod_ou)
        .unwrap();
    assert!(at_prod_ou
        .policies
        .iter()
        .any(|p| p.name == "DenyKmsDataKeys"));

    // The desired State under the live organization: exactly prod's data-key calls break.
    let mut state = desired.clone();
    state.organization.tree = Some(tree);
    state.scps = pulled.state.scps.clone();
    let options = CheckOptions::from_config(&cfg);
    let r = check(&state, &options);
    let broken: BTreeSet<(String, String)> = r
        .proofs
        .iter()
        .filter(|p| !p.holds && p.kind == ProofKind::AgentCall)
        .map(|p| (p.account.clone().unwrap_or_default(), p.id.clone()))
        .collect();
    let want: BTreeSet<(String, String)> = [
        "agent/kms:GenerateDataKey",
        "agent/kms:GenerateDataKey(session)",
    ]
    .iter()
    .map(|i| (prod.clone(), i.to_string()))
    .collect();
    assert_eq!(broken, want, "{}", r.to_table());
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("SCP `DenyKmsDataKeys`") && f.message.contains(&prod_ou)));
}
