//! `render(&Config, Profile) -> State`: pure, no IO, the desired State.

use ssmlog_state::{
    Account, Bucket, DefaultEncryption, Key, KeyPurpose, LifecycleRule, LogArchive, NamedPolicy,
    ObjectLock, Organization, PublicAccessBlock, Region, Role, RoleKind, State, Transition,
    Versioning,
};

use crate::config::{Config, KeyConfig, KeyMode};
use crate::documents::{Docs, KeyRole};
use crate::Profile;

/// The managed policy every instance role needs for Systems Manager itself.
pub const SSM_CORE_POLICY: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

/// Marker in the key id of a placeholder key ARN, for a key ssmlog has yet to create.
pub const PLACEHOLDER_KEY_ID_PREFIX: &str = "ssmlog-pending-";

/// The key id prefix of multi-Region keys; a placeholder multi-Region key id is
/// `mrk-ssmlog-pending-<name>` (real ones are `mrk-` and 32 hex digits).
pub const MULTI_REGION_KEY_ID_PREFIX: &str = "mrk-";

/// The key ARN: the configured one, or a placeholder
/// `arn:aws:kms:<bucket-region>:<log-archive>:key/ssmlog-pending-<name>` (and `true`),
/// `key/mrk-ssmlog-pending-<name>` when ssmlog creates the key multi-Region.
pub fn key_arn(cfg: &Config, key: &KeyConfig, name: &str, multi_region: bool) -> (String, bool) {
    match &key.arn {
        Some(arn) => (arn.clone(), false),
        None => (
            format!(
                "arn:aws:kms:{}:{}:key/{}{PLACEHOLDER_KEY_ID_PREFIX}{name}",
                cfg.bucket.region,
                cfg.log_archive_account,
                if multi_region {
                    MULTI_REGION_KEY_ID_PREFIX
                } else {
                    ""
                }
            ),
            true,
        ),
    }
}

/// Key names in the State (and file names of their key policies).
pub const BUCKET_KEY: &str = "bucket-key";
/// See [`BUCKET_KEY`].
pub const SESSION_KEY: &str = "session-key";

/// The State name of the replica in `region` of the key named `primary`.
pub fn replica_name(primary: &str, region: &str) -> String {
    format!("{primary}@{region}")
}

/// The key that encrypts session data: Key 2, or Key 1 in single-key mode.
pub(crate) fn session_key_config(cfg: &Config) -> (&KeyConfig, &'static str) {
    match (&cfg.keys.mode, &cfg.keys.session) {
        (KeyMode::TwoKeys, Some(s)) => (s, SESSION_KEY),
        _ => (&cfg.keys.bucket, BUCKET_KEY),
    }
}

/// Is the session key multi-Region? A configured key is what its id says; a key ssmlog
/// creates is multi-Region in the hardened profile, so every region gets a replica (the
/// seed creates one key in one region, as the article does).
pub(crate) fn session_key_multi_region(cfg: &Config, profile: Profile) -> bool {
    let (key, _) = session_key_config(cfg);
    match &key.arn {
        Some(arn) => arn
            .rsplit('/')
            .next()
            .is_some_and(|id| id.starts_with(MULTI_REGION_KEY_ID_PREFIX)),
        None => profile == Profile::Hardened,
    }
}

/// Regions that get a replica of the session key: every enabled region but the primary's,
/// in the hardened profile, when the session key is multi-Region.
pub(crate) fn replica_regions(cfg: &Config, profile: Profile) -> Vec<String> {
    if profile != Profile::Hardened || !session_key_multi_region(cfg, profile) {
        return Vec::new();
    }
    let (key, name) = session_key_config(cfg);
    let (arn, _) = key_arn(cfg, key, name, true);
    let home = arn.split(':').nth(3).unwrap_or_default().to_string();
    cfg.regions
        .iter()
        .filter(|r| **r != home)
        .cloned()
        .collect()
}

pub(crate) fn docs<'a>(cfg: &'a Config, profile: Profile) -> Docs<'a> {
    let multi = session_key_multi_region(cfg, profile);
    let two = matches!(
        (&cfg.keys.mode, &cfg.keys.session),
        (KeyMode::TwoKeys, Some(_))
    );
    let (bucket_key_arn, _) = key_arn(cfg, &cfg.keys.bucket, BUCKET_KEY, multi && !two);
    let session_key_arn = match (two, &cfg.keys.session) {
        (true, Some(s)) => key_arn(cfg, s, SESSION_KEY, multi).0,
        _ => bucket_key_arn.clone(),
    };
    Docs {
        cfg,
        profile,
        bucket_key_arn,
        session_key_arn,
        session_key_multi_region: multi,
    }
}

/// Renders the desired State of `cfg` in `profile`. Pure and deterministic: the same config
/// always gives the same State, and so the same bytes on disk.
pub fn render(cfg: &Config, profile: Profile) -> State {
    let d = docs(cfg, profile);
    let hardened = profile == Profile::Hardened;

    let multi = d.session_key_multi_region;
    let mut keys = Vec::new();
    let key = |k: &KeyConfig, name: &str, purpose: KeyPurpose, role: KeyRole, multi: bool| {
        let (arn, placeholder) = key_arn(cfg, k, name, multi);
        Key {
            name: name.to_string(),
            purpose,
            arn,
            arn_is_placeholder: placeholder,
            multi_region: multi,
            replica_of: None,
            alias: k.alias.clone(),
            administrators: k.administrators.clone(),
            rotation_enabled: true,
            policy: Some(d.key_policy(role, multi)),
        }
    };
    let (session_cfg, session_name) = session_key_config(cfg);
    match (&cfg.keys.mode, &cfg.keys.session) {
        (KeyMode::TwoKeys, Some(s)) => {
            keys.push(key(
                &cfg.keys.bucket,
                BUCKET_KEY,
                KeyPurpose::Bucket,
                KeyRole::Bucket,
                false,
            ));
            keys.push(key(
                s,
                SESSION_KEY,
                KeyPurpose::Session,
                KeyRole::Session,
                multi,
            ));
        }
        _ => keys.push(key(
            &cfg.keys.bucket,
            BUCKET_KEY,
            KeyPurpose::BucketAndSession,
            KeyRole::Both,
            multi,
        )),
    }
    // Replicas serve sessions only: their key policy is the session key's, whatever else
    // the primary does (S3 uses the primary in the bucket's region).
    for region in replica_regions(cfg, profile) {
        let mut replica = key(
            session_cfg,
            session_name,
            KeyPurpose::Session,
            KeyRole::Session,
            true,
        );
        replica.arn = d.session_key_in(&region);
        replica.name = replica_name(session_name, &region);
        replica.replica_of = Some(session_name.to_string());
        keys.push(replica);
    }

    let r = &cfg.bucket.retention;
    let mut lifecycle = Vec::new();
    if r.expire_after_days.is_some()
        || r.transition.is_some()
        || r.noncurrent_expire_after_days.is_some()
        || hardened
    {
        lifecycle.push(LifecycleRule {
            id: "ssmlog-retention".to_string(),
            enabled: true,
            prefix: String::new(),
            expiration_days: r.expire_after_days,
            transitions: r
                .transition
                .iter()
                .map(|(days, class)| Transition {
                    days: *days,
                    storage_class: class.clone(),
                })
                .collect(),
            noncurrent_version_expiration_days: r.noncurrent_expire_after_days,
            abort_incomplete_multipart_upload_days: hardened.then_some(7),
        });
    }
    let object_lock = cfg.bucket.object_lock.as_ref().map(|o| ObjectLock {
        mode: o.mode.clone(),
        days: o.days,
    });
    // The seed's console steps leave versioning off; Object Lock needs it on.
    let versioning = if hardened || object_lock.is_some() {
        Versioning::Enabled
    } else {
        Versioning::Disabled
    };

    let bucket = Bucket {
        name: cfg.bucket.name.clone(),
        region: cfg.bucket.region.clone(),
        default_encryption: DefaultEncryption {
            sse_algorithm: "aws:kms".to_string(),
            kms_key_id: Some(d.bucket_key_arn.clone()),
            bucket_key_enabled: true,
        },
        public_access_block: PublicAccessBlock::ALL,
        object_ownership: "BucketOwnerEnforced".to_string(),
        versioning,
        lifecycle,
        object_lock,
        policy: Some(d.bucket_policy()),
    };

    let accounts = cfg
        .accounts
        .iter()
        .map(|m| {
            let policy = d.role_policy(&m.id);
            let roles = cfg
                .instance_roles
                .iter()
                .map(|r| {
                    let created = r.kind == RoleKind::Created;
                    Role {
                        name: r.name.clone(),
                        path: r.path.clone(),
                        kind: r.kind,
                        managed_policy_arns: if created {
                            vec![SSM_CORE_POLICY.to_string()]
                        } else {
                            Vec::new()
                        },
                        trust_policy: created.then(|| d.trust_policy()),
                        policies: vec![NamedPolicy {
                            name: cfg.policy_name.clone(),
                            document: policy.clone(),
                        }],
                    }
                })
                .collect();
            let regions = cfg
                .regions
                .iter()
                .map(|region| Region {
                    name: region.clone(),
                    preferences: Some(d.preferences(&m.id, region)),
                })
                .collect();
            Account {
                id: m.id.clone(),
                name: m.name.clone(),
                regions,
                roles,
            }
        })
        .collect();

    // The guardrails are the hardened profile's; the seed reproduces the article, which
    // has none.
    let (scps, rcps) = match (&cfg.guardrails, hardened) {
        (Some(g), true) => crate::guardrails::attachments(cfg, g),
        _ => (Vec::new(), Vec::new()),
    };

    State {
        producer: format!("ssmlog render --baseline {}", profile.as_str()),
        organization: Organization {
            id: cfg.organization_id.clone(),
            management_account_id: None,
            tree: cfg.tree.clone(),
        },
        log_archive: LogArchive {
            account_id: cfg.log_archive_account.clone(),
            region: cfg.home_region.clone(),
        },
        bucket,
        keys,
        accounts,
        scps,
        rcps,
        unreachable: Vec::new(),
        networks: Vec::new(),
    }
}
