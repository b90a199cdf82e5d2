//! The organization's tree and the SCPs and RCPs attached at each of its levels, for `pull`:
//! `ListRoots`, then `ListParents` from each account up to the root (each OU named by
//! `DescribeOrganizationalUnit`), then `ListPoliciesForTarget` on every node of those paths
//! (root, OUs, accounts) for both policy types, each policy's content read once by
//! `DescribePolicy`. Needs the management account or a delegated administrator.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_organizations::types::{ParentType, PolicyType};
use serde_json::Value;
use ssmlog_state::{NamedPolicy, OrgAccount, OrgTree, OrgUnit, TargetPolicies};

use crate::connect::AccountClients;
use crate::error::{code_of, AwsError};
use crate::live::call;

/// The live tree, and the SCPs and RCPs per target (sorted by target, then policy name).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LiveOrganization {
    pub(crate) tree: OrgTree,
    pub(crate) scps: Vec<TargetPolicies>,
    pub(crate) rcps: Vec<TargetPolicies>,
}

/// Reads the paths of `accounts` and the policies attached along them.
pub(crate) async fn read_organization(
    c: &AccountClients,
    accounts: &[String],
) -> Result<LiveOrganization, AwsError> {
    let org = c.organizations();
    let root = call!(c, "organizations:ListRoots", org.list_roots().send())?
        .and_then(|r| r.roots)
        .unwrap_or_default()
        .into_iter()
        .find_map(|r| r.id)
        .ok_or_else(|| AwsError::new("organizations:ListRoots", "the organization has no root"))?;
    let mut units: BTreeMap<String, OrgUnit> = BTreeMap::new();
    let mut placed = Vec::new();
    for account in accounts {
        let Some(parent) = parent_of(c, account).await? else {
            continue; // not (or no longer) in the organization
        };
        placed.push(OrgAccount {
            id: account.clone(),
            parent: parent.clone(),
        });
        let mut at = parent;
        while at != root && !units.contains_key(&at) {
            let Some(up) = parent_of(c, &at).await? else {
                break;
            };
            let name = call!(
                c,
                "organizations:DescribeOrganizationalUnit",
                org.describe_organizational_unit()
                    .organizational_unit_id(&at)
                    .send()
            )?
            .and_then(|o| o.organizational_unit)
            .and_then(|u| u.name);
            units.insert(
                at.clone(),
                OrgUnit {
                    id: at.clone(),
                    name,
                    parent: up.clone(),
                },
            );
            at = up;
        }
    }
    placed.sort_by(|a, b| a.id.cmp(&b.id));
    let tree = OrgTree {
        root: root.clone(),
        units: units.into_values().collect(),
        accounts: placed,
    };
    let targets: Vec<String> = std::iter::once(root)
        .chain(tree.units.iter().map(|u| u.id.clone()))
        .chain(tree.accounts.iter().map(|a| a.id.clone()))
        .collect();
    let mut documents: HashMap<String, Value> = HashMap::new();
    let scps = attached(
        c,
        &targets,
        PolicyType::ServiceControlPolicy,
        &mut documents,
    )
    .await?;
    let rcps = attached(
        c,
        &targets,
        PolicyType::ResourceControlPolicy,
        &mut documents,
    )
    .await?;
    Ok(LiveOrganization { tree, scps, rcps })
}

/// The root or OU directly above `child`.
async fn parent_of(c: &AccountClients, child: &str) -> Result<Option<String>, AwsError> {
    let org = c.organizations();
    let parents = call!(
        c,
        "organizations:ListParents",
        org.list_parents().child_id(child).send()
    )?
    .and_then(|p| p.parents)
    .unwrap_or_default();
    Ok(parents.into_iter().find_map(|p| match p.r#type {
        Some(ParentType::Root | ParentType::OrganizationalUnit) | None => p.id,
        Some(_) => None,
    }))
}

/// The policies of `kind` attached to each target; none when that policy type is not
/// enabled (or not readable from here).
async fn attached(
    c: &AccountClients,
    targets: &[String],
    kind: PolicyType,
    documents: &mut HashMap<String, Value>,
) -> Result<Vec<TargetPolicies>, AwsError> {
    let org = c.organizations();
    let mut out = Vec::new();
    for target in targets {
        let mut policies = Vec::new();
        let mut token = None;
        loop {
            c.count("organizations:ListPoliciesForTarget");
            let page = match org
                .list_policies_for_target()
                .target_id(target)
                .filter(kind.clone())
                .set_next_token(token)
                .send()
                .await
            {
                Ok(p) => p,
                // The policy type is not enabled, or not readable from here: none known.
                Err(e) if code_of(&e).is_some() => return Ok(Vec::new()),
                Err(e) => return Err(AwsError::sdk("organizations:ListPoliciesForTarget", &e)),
            };
            for s in page.policies.unwrap_or_default() {
                let (Some(id), Some(name)) = (s.id, s.name) else {
                    continue;
                };
                if !documents.contains_key(&id) {
                    let doc = call!(
                        c,
                        "organizations:DescribePolicy",
                        org.describe_policy().policy_id(&id).send()
                    )?
                    .and_then(|p| p.policy)
                    .and_then(|p| p.content)
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok());
                    if let Some(doc) = doc {
                        documents.insert(id.clone(), doc);
                    }
                }
                if let Some(document) = documents.get(&id) {
                    policies.push(NamedPolicy {
                        name,
                        document: document.clone(),
                    });
                }
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        if !policies.is_empty() {
            policies.sort_by(|a, b| a.name.cmp(&b.name));
            out.push(TargetPolicies {
                target: target.clone(),
                policies,
            });
        }
    }
    out.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(out)
}
