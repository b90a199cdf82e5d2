//! The config: TOML as written (`raw`), then a validated [`Config`] that render can trust.
//!
//! Parsing happens in two layers, like ripgrep's low and high arguments: serde reads the
//! TOML into `raw` structs that reject unknown fields, then [`crate::validate`] checks every
//! value and builds a [`Config`] whose fields need no further checking.

use serde::Deserialize;

/// The validated config: everything `render` needs, with defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `o-…`.
    pub organization_id: String,
    /// The log-archive account id.
    pub log_archive_account: String,
    /// The log-archive home region.
    pub home_region: String,
    /// The bucket.
    pub bucket: BucketConfig,
    /// The keys.
    pub keys: KeysConfig,
    /// Where member accounts come from.
    pub account_source: AccountSource,
    /// Member accounts to render, excluded ones removed, sorted by id.
    pub accounts: Vec<Member>,
    /// Accounts never configured, even when discovered, sorted.
    pub excluded_accounts: Vec<String>,
    /// Regions to render, excluded ones removed, sorted.
    pub regions: Vec<String>,
    /// Regions never configured, sorted.
    pub excluded_regions: Vec<String>,
    /// Instance roles that get the logging policy, sorted by name.
    pub instance_roles: Vec<InstanceRole>,
    /// Name of the inline policy attached to each instance role.
    pub policy_name: String,
    /// Session Manager preferences.
    pub session: SessionConfig,
    /// The guardrail SCPs and RCP (`[guardrails]`), rendered in the hardened profile.
    pub guardrails: Option<GuardrailsConfig>,
    /// Principal ARN patterns of the auditors who may list, read and decrypt the logs
    /// (`[readers]`), sorted; nobody else may read them (hardened profile).
    pub readers: Vec<String>,
    /// The organization's tree as the config gives it (`organization.root_id`,
    /// `organization.units`, `parent` of members and of the log-archive account), so OU
    /// attachments can be proven offline; `None` without `root_id`.
    pub tree: Option<ssmlog_state::OrgTree>,
    /// `[network]`: which accounts' networks `check` must find in a State, and whether the
    /// CloudFormation export creates the agent's VPC endpoints.
    pub network: Option<NetworkConfig>,
}

/// `[network]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Member accounts (or `*` for all) whose network must be in the State: `check` then
    /// reports an unknown network there as an error, not a note. Sorted.
    pub expected: Vec<String>,
    /// The member StackSet template creates interface endpoints for ssm, ssmmessages,
    /// ec2messages and kms (private DNS on) and an S3 gateway endpoint, in a VPC given as
    /// parameters.
    pub create_endpoints: bool,
}

/// `[guardrails]`: SCPs that keep member administrators from switching logging off or going
/// around it, and an RCP that keeps the bucket and keys to the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailsConfig {
    /// Where the SCPs attach: the root (`r-…`), OUs (`ou-…`) or account ids.
    pub attach_to: Vec<String>,
    /// Principal ARN patterns of the roles that deploy ssmlog into member accounts: the only
    /// ones that may change the preferences document and create Session documents.
    pub deploy_roles: Vec<String>,
    /// Principal ARN patterns allowed to start port-forwarding and SSH sessions, which
    /// Session Manager never logs.
    pub port_forwarding: Vec<String>,
    /// Session documents of the member accounts, besides `SSM-SessionManagerRunShell`, with
    /// which sessions may start, sorted.
    pub session_documents: Vec<String>,
}

/// The bucket part of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketConfig {
    /// Bucket name.
    pub name: String,
    /// Bucket (and key) region.
    pub region: String,
    /// The prefix scheme, e.g. `{account}/{region}`.
    pub key_prefix: String,
    /// Lifecycle.
    pub retention: Retention,
    /// Optional Object Lock default retention.
    pub object_lock: Option<ObjectLockConfig>,
    /// Principal ARNs that may change the bucket's policy and settings and delete logs
    /// (hardened profile); by default every key administrator, sorted.
    pub administrators: Vec<String>,
    /// `aws:SourceArn`s of AWS services that write into the bucket without SSE-KMS with
    /// Key 1 (a CloudTrail trail): the hardened upload Denies exempt them (sorted).
    pub exempt_source_arns: Vec<String>,
}

/// Lifecycle settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// Days until current versions expire.
    pub expire_after_days: Option<u32>,
    /// Days and storage class of the one transition.
    pub transition: Option<(u32, String)>,
    /// Days until noncurrent versions are deleted.
    pub noncurrent_expire_after_days: Option<u32>,
}

/// Object Lock default retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLockConfig {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    /// Days.
    pub days: u32,
}

/// One key or two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    /// Key 1 for the bucket, Key 2 for session data.
    TwoKeys,
    /// One key for both.
    SingleKey,
}

/// The keys part of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysConfig {
    /// One key or two.
    pub mode: KeyMode,
    /// Key 1.
    pub bucket: KeyConfig,
    /// Key 2; `None` in single-key mode.
    pub session: Option<KeyConfig>,
}

/// One key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyConfig {
    /// An existing key's ARN; `None` means ssmlog creates the key.
    pub arn: Option<String>,
    /// `alias/…`.
    pub alias: Option<String>,
    /// Principal ARNs that administer the key.
    pub administrators: Vec<String>,
}

/// Where member accounts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountSource {
    /// Only the listed accounts.
    List,
    /// Every account of the organization, discovered online.
    Organization,
}

/// A member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// 12-digit id.
    pub id: String,
    /// Friendly name.
    pub name: Option<String>,
}

/// An instance role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRole {
    /// Role name.
    pub name: String,
    /// Role path, `/` or `/service-role/`.
    pub path: String,
    /// Existing, Default Host Management, or created by ssmlog.
    pub kind: ssmlog_state::RoleKind,
}

/// Session Manager preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Minutes, 1–60.
    pub idle_session_timeout: u32,
    /// Minutes, 1–1440; `None` for no limit.
    pub max_session_duration: Option<u32>,
    /// Principal ARN patterns of people who start sessions.
    pub starters: Vec<String>,
    /// Run sessions as `run_as_default_user`.
    pub run_as_enabled: bool,
    /// The OS user for run-as.
    pub run_as_default_user: String,
    /// Linux shell profile.
    pub shell_profile_linux: String,
    /// Windows shell profile.
    pub shell_profile_windows: String,
    /// Optional CloudWatch Logs settings.
    pub cloudwatch: Option<CloudWatchConfig>,
    /// The preferences inputs the config leaves unset (`idleSessionTimeout` when
    /// `idle_session_timeout` is omitted, `runAsEnabled` and `runAsDefaultUser` without
    /// `[session.run_as]`, …): rendered with their defaults, but `apply` keeps the value an
    /// existing document has (omitted means keep, set means set).
    pub unset_inputs: Vec<String>,
}

/// CloudWatch Logs settings of the preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchConfig {
    /// Log group name.
    pub log_group_name: String,
    /// Require an encrypted log group.
    pub encryption_enabled: bool,
    /// Stream instead of upload at session end.
    pub streaming_enabled: bool,
}

/// The TOML as written. Every table rejects unknown fields so typos are reported.
pub(crate) mod raw {
    use super::Deserialize;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Config {
        pub organization: Organization,
        pub log_archive: LogArchive,
        pub bucket: Bucket,
        pub keys: Keys,
        pub accounts: Accounts,
        pub regions: Regions,
        pub instance_roles: InstanceRoles,
        #[serde(default)]
        pub session: Session,
        pub guardrails: Option<Guardrails>,
        pub readers: Option<Readers>,
        pub network: Option<Network>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Network {
        #[serde(default)]
        pub expected: Vec<String>,
        #[serde(default)]
        pub create_endpoints: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Organization {
        pub id: String,
        pub root_id: Option<String>,
        #[serde(default)]
        pub units: Vec<Unit>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Unit {
        pub id: String,
        pub parent: String,
        pub name: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct LogArchive {
        pub account_id: String,
        pub region: String,
        pub parent: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Guardrails {
        #[serde(default)]
        pub attach_to: Vec<String>,
        #[serde(default)]
        pub deploy_roles: Vec<String>,
        #[serde(default)]
        pub port_forwarding: Vec<String>,
        #[serde(default)]
        pub session_documents: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Readers {
        #[serde(default)]
        pub roles: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Bucket {
        pub name: String,
        pub region: Option<String>,
        pub key_prefix: Option<String>,
        #[serde(default)]
        pub retention: Retention,
        pub object_lock: Option<ObjectLock>,
        pub administrators: Option<Vec<String>>,
        #[serde(default)]
        pub exempt_source_arns: Vec<String>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct Retention {
        pub expire_after_days: Option<i64>,
        pub transition_after_days: Option<i64>,
        pub transition_storage_class: Option<String>,
        pub noncurrent_expire_after_days: Option<i64>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ObjectLock {
        pub mode: String,
        pub days: i64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Keys {
        pub mode: Option<String>,
        pub bucket: Option<Key>,
        pub session: Option<Key>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Key {
        pub arn: Option<String>,
        pub alias: Option<String>,
        #[serde(default)]
        pub administrators: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Accounts {
        pub source: Option<String>,
        #[serde(default)]
        pub members: Vec<Member>,
        #[serde(default)]
        pub exclude: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Member {
        pub id: String,
        pub name: Option<String>,
        pub parent: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Regions {
        #[serde(default)]
        pub enabled: Vec<String>,
        #[serde(default)]
        pub exclude: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct InstanceRoles {
        #[serde(default)]
        pub existing: Vec<String>,
        #[serde(default)]
        pub default_host_management: bool,
        pub default_host_management_role: Option<String>,
        pub create: Option<String>,
        pub policy_name: Option<String>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct Session {
        pub idle_session_timeout: Option<i64>,
        pub max_session_duration: Option<i64>,
        #[serde(default)]
        pub starters: Vec<String>,
        pub run_as: Option<RunAs>,
        pub shell_profile: Option<ShellProfile>,
        pub cloudwatch: Option<CloudWatch>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct RunAs {
        #[serde(default)]
        pub enabled: bool,
        #[serde(default)]
        pub default_user: String,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct ShellProfile {
        #[serde(default)]
        pub linux: String,
        #[serde(default)]
        pub windows: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct CloudWatch {
        pub log_group_name: String,
        #[serde(default = "yes")]
        pub encryption_enabled: bool,
        #[serde(default)]
        pub streaming_enabled: bool,
    }

    fn yes() -> bool {
        true
    }
}
