//! `pull`: the live State, read from AWS into the same model `render` produces.
//!
//! The mapping (documented in docs/STATE.md's terms):
//! - organization: `DescribeOrganization` when the caller may read it, else the config's id;
//! - bucket: `HeadBucket` and the seven `GetBucket…` reads; a missing bucket is reported and
//!   stands in as a bucket with no encryption, no policy and every switch off, so `check`
//!   fails on it;
//! - keys: found by the configured ARN, else by alias; policy from `GetKeyPolicy`, rotation
//!   from `GetKeyRotationStatus`; administrators are the config's (they are not a live
//!   property); a missing key keeps its placeholder ARN, has no policy, and is reported;
//! - roles: each configured instance role that exists, with its path, trust policy, every
//!   inline policy and the attached managed policy ARNs;
//! - preferences: the content of the default version of `SSM-SessionManagerRunShell` in each
//!   configured region;
//! - the organization's tree (each account's path, root to account) and the SCPs and RCPs
//!   attached at every node of those paths, when the caller may read them (the management
//!   account or a delegated administrator); unknown otherwise;
//! - the network of each member account and region (VPCs, subnets, route tables, VPC
//!   endpoints and their policies: [`crate::network`]); one that cannot be read is an
//!   `unreachable[]` entry of that region (which stays in `regions[]` when its preferences
//!   were read), never "no VPCs".

use std::sync::Arc;

use ssmlog_state::{
    Account, Bucket, DefaultEncryption, PublicAccessBlock, Region, RegionNetwork, Role, State,
    Unreachable, Versioning,
};

use crate::connect::Aws;
use crate::converge::{bounded, Progress};
use crate::error::AwsError;
use crate::live;

/// The live State and every error met on the way (the State holds what could be read, and
/// names in `unreachable` each account or region it could not).
#[derive(Debug)]
pub struct PullOutcome {
    /// The live State.
    pub state: State,
    /// Per-account errors; the other accounts were still pulled.
    pub errors: Vec<AwsError>,
}

fn unreachable(account: &str, region: Option<&str>, e: &AwsError) -> Unreachable {
    Unreachable {
        account: account.to_string(),
        region: region.map(str::to_string),
        reason: e.to_string(),
    }
}

/// Reads the live State of everything `desired` (the rendered config) names.
pub async fn pull(
    aws: Arc<Aws>,
    desired: &State,
    concurrency: usize,
    progress: Option<Progress>,
) -> PullOutcome {
    let mut state = desired.clone();
    state.producer = "pull".to_string();
    let mut errors = Vec::new();

    let caller = aws.caller();
    match crate::org::discover(&caller).await {
        Ok(d) => {
            state.organization.id = d.organization_id;
            state.organization.management_account_id = d.management_account_id;
            let mut ids: Vec<String> = desired.accounts.iter().map(|a| a.id.clone()).collect();
            ids.push(desired.log_archive.account_id.clone());
            ids.sort();
            ids.dedup();
            match crate::org_tree::read_organization(&caller, &ids).await {
                Ok(o) => {
                    state.organization.tree = Some(o.tree);
                    state.scps = o.scps;
                    state.rcps = o.rcps;
                }
                Err(e) => {
                    (state.organization.tree, state.scps, state.rcps) =
                        (None, Vec::new(), Vec::new());
                    errors.push(e);
                }
            }
        }
        // Not readable from here: the config's id stands, the tree and policies are unknown.
        Err(_) => {
            (state.organization.tree, state.scps, state.rcps) = (None, Vec::new(), Vec::new())
        }
    }

    let la = &desired.log_archive.account_id;
    match aws.account(la).await {
        Ok(c) => {
            match live::read_bucket(&c, &desired.bucket.name, &desired.bucket.region).await {
                Ok(Some(b)) => state.bucket = b,
                Ok(None) => {
                    errors.push(AwsError::new(
                        format!("account {la}"),
                        format!("bucket `{}` does not exist", desired.bucket.name),
                    ));
                    state.bucket = missing_bucket(&desired.bucket);
                }
                Err(e) => {
                    state
                        .unreachable
                        .push(unreachable(la, Some(&desired.bucket.region), &e));
                    errors.push(e);
                    state.bucket = missing_bucket(&desired.bucket);
                }
            }
            for key in &mut state.keys {
                let arn = (!key.arn_is_placeholder).then(|| key.arn.clone());
                let region = crate::converge::key_region(&key.arn).to_string();
                match live::find_key(&c, &region, arn.as_deref(), key.alias.as_deref()).await {
                    Ok(Some(k)) => {
                        key.arn = k.arn;
                        key.arn_is_placeholder = false;
                        key.policy = k.policy;
                        key.rotation_enabled = k.rotation;
                    }
                    Ok(None) => {
                        errors.push(AwsError::new(
                            format!("account {la}"),
                            format!(
                                "key `{}` ({}) does not exist",
                                key.name,
                                key.alias.clone().unwrap_or_default()
                            ),
                        ));
                        key.policy = None;
                        key.rotation_enabled = false;
                    }
                    Err(e) => {
                        state.unreachable.push(unreachable(la, Some(&region), &e));
                        errors.push(e);
                        key.policy = None;
                    }
                }
            }
        }
        Err(e) => {
            state.unreachable.push(unreachable(la, None, &e));
            errors.push(e);
            state.bucket = missing_bucket(&desired.bucket);
            for key in &mut state.keys {
                key.policy = None;
            }
        }
    }

    let jobs: Vec<_> = desired
        .accounts
        .iter()
        .map(|a| {
            let aws = aws.clone();
            let account = a.clone();
            (format!("account {}", a.id), async move {
                pull_account(&aws, account).await
            })
        })
        .collect();
    let mut accounts = Vec::new();
    let mut networks = Vec::new();
    let results = bounded(concurrency, jobs, progress).await;
    for (result, wanted) in results.into_iter().zip(&desired.accounts) {
        match result {
            Some(Ok((account, mut nets, mut lost, mut errs))) => {
                accounts.push(account);
                networks.append(&mut nets);
                state.unreachable.append(&mut lost);
                errors.append(&mut errs);
            }
            // Not reached at all: nothing of it is in the State, and the State says so.
            Some(Err(e)) => {
                state.unreachable.push(unreachable(&wanted.id, None, &e));
                errors.push(e);
            }
            None => {
                let e = AwsError::new(
                    format!("account {}", wanted.id),
                    "the pull task stopped without an answer",
                );
                state.unreachable.push(unreachable(&wanted.id, None, &e));
                errors.push(e);
            }
        }
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    state.accounts = accounts;
    networks.sort_by(|a: &RegionNetwork, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    state.networks = networks;
    state
        .unreachable
        .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    PullOutcome { state, errors }
}

fn missing_bucket(desired: &Bucket) -> Bucket {
    Bucket {
        name: desired.name.clone(),
        region: desired.region.clone(),
        default_encryption: DefaultEncryption {
            sse_algorithm: String::new(),
            kms_key_id: None,
            bucket_key_enabled: false,
        },
        public_access_block: PublicAccessBlock {
            block_public_acls: false,
            ignore_public_acls: false,
            block_public_policy: false,
            restrict_public_buckets: false,
        },
        object_ownership: "ObjectWriter".to_string(),
        versioning: Versioning::Disabled,
        lifecycle: Vec::new(),
        object_lock: None,
        policy: None,
    }
}

/// What one member account gave: the account, the networks of its regions, what could not
/// be read, and the errors.
type PulledAccount = (Account, Vec<RegionNetwork>, Vec<Unreachable>, Vec<AwsError>);

/// One member account: its roles, each region's preferences and network, and what could
/// not be read. A role or region that fails is left out of the account and named
/// unreachable (its absence would otherwise read as "no document"); a network that fails
/// is named unreachable and left out of `networks[]` (else it would read as "no VPCs");
/// an account that cannot be reached at all is an error.
async fn pull_account(aws: &Aws, desired: Account) -> Result<PulledAccount, AwsError> {
    let c = aws.account(&desired.id).await?;
    let mut errors = Vec::new();
    let mut lost = Vec::new();
    let mut roles = Vec::new();
    for role in &desired.roles {
        match live::read_role(&c, &role.name).await {
            Ok(Some(r)) => roles.push(Role {
                name: role.name.clone(),
                path: r.path,
                kind: role.kind,
                managed_policy_arns: r.managed_policy_arns,
                trust_policy: r.trust_policy,
                policies: r.policies,
            }),
            Ok(None) => {}
            Err(e) => {
                lost.push(unreachable(&desired.id, None, &e));
                errors.push(e);
            }
        }
    }
    let mut regions = Vec::new();
    let mut networks = Vec::new();
    for region in &desired.regions {
        match live::read_preferences(&c, &region.name).await {
            Ok(p) => regions.push(Region {
                name: region.name.clone(),
                preferences: p.map(|p| p.content),
            }),
            Err(e) => {
                // The whole region is unreachable: its network is not read either.
                let e = crate::error::in_region(e, &desired.id, &region.name);
                lost.push(unreachable(&desired.id, Some(&region.name), &e));
                errors.push(e);
                continue;
            }
        }
        match crate::network::read_network(&c, &region.name).await {
            Ok(vpcs) => networks.push(RegionNetwork {
                account: desired.id.clone(),
                region: region.name.clone(),
                vpcs,
            }),
            Err(e) => {
                let e = crate::error::in_region(e, &desired.id, &region.name);
                lost.push(unreachable(&desired.id, Some(&region.name), &e));
                errors.push(e);
            }
        }
    }
    Ok((
        Account {
            id: desired.id,
            name: desired.name,
            regions,
            roles,
        },
        networks,
        lost,
        errors,
    ))
}
