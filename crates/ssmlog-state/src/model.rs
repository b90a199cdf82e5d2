//! The State as plain data: no IO, no AWS calls, only what decides whether logging works.
//!
//! Policy documents stay `serde_json::Value`: the IAM engine parses them on its own terms,
//! and keeping them untyped means a pulled State can hold documents this model never foresaw.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format tag written into `state.json`, bumped on any incompatible layout change.
pub const FORMAT: &str = "ssmlog-state/3";

/// Older formats this version still reads: each is this format minus optional fields that
/// read as unknown (`ssmlog-state/2` had no `organization.tree`).
pub const READABLE_FORMATS: &[&str] = &["ssmlog-state/2"];

/// Formats this version can no longer read, with what changed since, for the error message.
pub const OLDER_FORMATS: &[(&str, &str)] = &[(
    "ssmlog-state/1",
    "`ssmlog-state/2` added multi-Region keys and their replicas (`keys[].multiRegion`, `keys[].replicaOf`)",
)];

/// The file name of the Session Manager preferences document, fixed by AWS.
pub const PREFERENCES_DOCUMENT: &str = "SSM-SessionManagerRunShell";

/// Everything that decides whether central Session Manager logging works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct State {
    /// Who produced this State (`render --baseline hardened`, `pull`), for people reading a diff.
    pub producer: String,
    /// The AWS Organization the accounts belong to.
    pub organization: Organization,
    /// Where the bucket and keys live.
    pub log_archive: LogArchive,
    /// The central log bucket and its settings.
    pub bucket: Bucket,
    /// The KMS keys, bucket key first.
    pub keys: Vec<Key>,
    /// Member accounts that send logs, sorted by id.
    pub accounts: Vec<Account>,
    /// Service control policies per target (root, OU or account), when known.
    #[serde(default)]
    pub scps: Vec<TargetPolicies>,
    /// Resource control policies per target, when known.
    #[serde(default)]
    pub rcps: Vec<TargetPolicies>,
    /// What `pull` could not read (an account it could not reach, a region that failed):
    /// nothing is proven there, and `check` fails on each entry. Always empty when rendered.
    #[serde(default)]
    pub unreachable: Vec<Unreachable>,
    /// The network of each account/region whose network is known, sorted by account then
    /// region. An account/region without an entry has an unknown network (not proven by
    /// `check`); an entry with no VPCs is known to have none.
    #[serde(default)]
    pub networks: Vec<RegionNetwork>,
}

/// An account, or one region of it, that `pull` could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Unreachable {
    /// 12-digit account id.
    pub account: String,
    /// The region that failed; `None` when the whole account could not be reached.
    #[serde(default)]
    pub region: Option<String>,
    /// What failed, in AWS's words (`sts:AssumeRole: AccessDenied: …`).
    pub reason: String,
}

/// The VPCs of one member account in one region: what decides whether the agent on an
/// instance there can reach SSM, KMS and the bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegionNetwork {
    /// 12-digit account id (a member account of the State).
    pub account: String,
    /// Region name (one of that account's regions).
    pub region: String,
    /// The VPCs, sorted by id.
    pub vpcs: Vec<Vpc>,
}

/// A VPC with what routes its traffic to AWS services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vpc {
    /// `vpc-…`.
    pub id: String,
    /// Subnets, sorted by id.
    pub subnets: Vec<Subnet>,
    /// Route tables, sorted by id; exactly one is the main route table.
    pub route_tables: Vec<RouteTable>,
    /// VPC endpoints, sorted by id.
    pub endpoints: Vec<VpcEndpoint>,
}

/// A subnet and the route table it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subnet {
    /// `subnet-…`.
    pub id: String,
    /// Its explicitly associated route table; `None` means the VPC's main route table.
    #[serde(default)]
    pub route_table: Option<String>,
    /// Whether instances launched here get a public IPv4 address by default
    /// (`MapPublicIpOnLaunch`): a route to an internet gateway reaches the internet only
    /// for instances with one. `None`: unknown (a State written before the field, or by
    /// hand), proven as if they had one, with a note.
    #[serde(default)]
    pub map_public_ip_on_launch: Option<bool>,
}

/// A route table and its routes (the VPC-local route is implied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteTable {
    /// `rtb-…`.
    pub id: String,
    /// The VPC's main route table (used by subnets without an association).
    pub main: bool,
    /// Routes other than the local one.
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Route {
    /// Destination CIDR (`0.0.0.0/0`) or prefix list (`pl-…`).
    pub destination: String,
    /// What the route points at.
    pub target: RouteTarget,
    /// The target's id (`igw-…`, `nat-…`, `tgw-…`, …).
    pub target_id: String,
}

/// What a route points at, as far as reaching AWS services goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteTarget {
    /// An internet gateway: the internet, for instances with a public IP.
    InternetGateway,
    /// A NAT gateway (or NAT instance): the internet for private instances.
    NatGateway,
    /// Anything else (transit gateway, peering, appliance): where it leads is not known.
    Other,
}

/// A VPC endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VpcEndpoint {
    /// `vpce-…`; also the file name of its policy.
    pub id: String,
    /// Gateway (S3, DynamoDB: routes in route tables) or interface (network interfaces).
    pub kind: EndpointKind,
    /// `com.amazonaws.<region>.<service>`.
    pub service_name: String,
    /// Interface endpoints: whether the service's public name resolves to the endpoint.
    #[serde(default)]
    pub private_dns: bool,
    /// Interface endpoints: the subnets with a network interface of the endpoint, sorted.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Gateway endpoints: the route tables it adds its route to, sorted.
    #[serde(default)]
    pub route_tables: Vec<String>,
    /// The endpoint policy; `None` means AWS's default policy, which allows everything.
    #[serde(default)]
    pub policy: Option<Value>,
}

/// The two kinds of VPC endpoint that matter to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointKind {
    /// A gateway endpoint (S3 here): reaches the service in the VPC's region only.
    Gateway,
    /// An interface endpoint (PrivateLink).
    Interface,
}

impl VpcEndpoint {
    /// The service part of the service name (`ssm`, `s3`, …) and the region in it.
    pub fn service(&self) -> (&str, &str) {
        let rest = self
            .service_name
            .strip_prefix("com.amazonaws.")
            .unwrap_or(&self.service_name);
        match rest.split_once('.') {
            Some((region, service)) => (service, region),
            None => (rest, ""),
        }
    }
}

impl State {
    /// The known network of `account` in `region`, if any.
    pub fn network(&self, account: &str, region: &str) -> Option<&RegionNetwork> {
        self.networks
            .iter()
            .find(|n| n.account == account && n.region == region)
    }

    /// How many VPCs the State knows, over every account and region.
    pub fn vpcs_known(&self) -> usize {
        self.networks.iter().map(|n| n.vpcs.len()).sum()
    }
}

/// The organization, so `aws:PrincipalOrgID` conditions can be checked against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Organization {
    /// `o-` followed by 10 to 32 lowercase letters or digits.
    pub id: String,
    /// The management account, to which SCPs and RCPs do not apply; unknown when rendered.
    #[serde(default)]
    pub management_account_id: Option<String>,
    /// The organization's tree (root, OUs, where each account sits), so SCPs and RCPs
    /// attached to OUs can be placed on the accounts below them; `None` when unknown.
    #[serde(default)]
    pub tree: Option<OrgTree>,
}

/// The organization's tree: the root, every OU with its parent, every account with its
/// parent. An account's path is root → OU → … → the account; an SCP or RCP attached to
/// any node of it applies to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgTree {
    /// The root id, `r-…`.
    pub root: String,
    /// The OUs, sorted by id.
    #[serde(default)]
    pub units: Vec<OrgUnit>,
    /// Where each account sits (members, the log-archive account, any other), sorted by id.
    #[serde(default)]
    pub accounts: Vec<OrgAccount>,
}

/// An organizational unit and its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgUnit {
    /// `ou-…`.
    pub id: String,
    /// Its name, for reports only.
    #[serde(default)]
    pub name: Option<String>,
    /// The root or the OU it is in.
    pub parent: String,
}

/// An account and the root or OU it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgAccount {
    /// 12-digit account id.
    pub id: String,
    /// The root or the OU it is in.
    pub parent: String,
}

impl OrgTree {
    /// The path of every placed account: root, OUs from the top down, then the account.
    /// Assumes a tree that [`OrgTree::problem`] accepts (a cycle stops the walk).
    pub fn paths(&self) -> std::collections::HashMap<&str, Vec<&str>> {
        let parent: std::collections::HashMap<&str, &str> = self
            .units
            .iter()
            .map(|u| (u.id.as_str(), u.parent.as_str()))
            .collect();
        self.accounts
            .iter()
            .map(|a| {
                let mut path = vec![a.id.as_str()];
                let mut at = a.parent.as_str();
                while let Some(&up) = parent.get(at) {
                    path.push(at);
                    at = up;
                    if path.len() > parent.len() + 1 {
                        break;
                    }
                }
                path.push(self.root.as_str());
                path.reverse();
                (a.id.as_str(), path)
            })
            .collect()
    }

    /// What is wrong with the tree, if anything: an id used twice, a parent that is neither
    /// the root nor an OU of the tree, or a cycle of OUs. `(json path, message)`.
    pub fn problem(&self) -> Option<(String, String)> {
        if !self.root.starts_with("r-") {
            return Some((
                "root".into(),
                format!("the root id `{}` must start with `r-`", self.root),
            ));
        }
        let known = |id: &str| id == self.root || self.units.iter().any(|u| u.id == id);
        for (i, u) in self.units.iter().enumerate() {
            if !u.id.starts_with("ou-") {
                return Some((
                    format!("units[{i}].id"),
                    format!("an OU id starts with `ou-`, not `{}`", u.id),
                ));
            }
            if self.units[..i].iter().any(|o| o.id == u.id) {
                return Some((
                    format!("units[{i}].id"),
                    format!("OU `{}` is listed twice", u.id),
                ));
            }
        }
        for (i, u) in self.units.iter().enumerate() {
            if !known(&u.parent) {
                return Some((
                    format!("units[{i}].parent"),
                    format!(
                        "parent `{}` is neither the root nor an OU of the tree",
                        u.parent
                    ),
                ));
            }
            let mut at = u.parent.as_str();
            let mut steps = 0;
            while let Some(p) = self.units.iter().find(|o| o.id == at) {
                steps += 1;
                if p.id == u.id || steps > self.units.len() {
                    return Some((
                        format!("units[{i}].parent"),
                        format!("OU `{}` is its own ancestor", u.id),
                    ));
                }
                at = p.parent.as_str();
            }
        }
        for (i, a) in self.accounts.iter().enumerate() {
            if self.accounts[..i].iter().any(|o| o.id == a.id) {
                return Some((
                    format!("accounts[{i}].id"),
                    format!("account `{}` is listed twice", a.id),
                ));
            }
            if !known(&a.parent) {
                return Some((
                    format!("accounts[{i}].parent"),
                    format!(
                        "parent `{}` is neither the root nor an OU of the tree",
                        a.parent
                    ),
                ));
            }
        }
        None
    }

    /// A readable name of a tree node for findings: `root r-…`, `OU ou-… (Name)`, `account …`.
    pub fn describe(&self, target: &str) -> String {
        if target == self.root {
            format!("root `{target}`")
        } else if let Some(u) = self.units.iter().find(|u| u.id == target) {
            match &u.name {
                Some(n) => format!("OU `{target}` ({n})"),
                None => format!("OU `{target}`"),
            }
        } else {
            format!("account `{target}`")
        }
    }
}

/// The log-archive account (Account A in the source documents) and its home region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogArchive {
    /// 12-digit account id that owns the bucket and the keys.
    pub account_id: String,
    /// Region of the bucket and the keys.
    pub region: String,
}

/// The log bucket: every setting that changes whether an upload lands, and who can read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bucket {
    /// Bucket name (global).
    pub name: String,
    /// Bucket region; the agent resolves it with `HeadBucket`.
    pub region: String,
    /// Default encryption, which the agent reads and copies into every upload.
    pub default_encryption: DefaultEncryption,
    /// The four public-access-block switches.
    pub public_access_block: PublicAccessBlock,
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`.
    pub object_ownership: String,
    /// Versioning status.
    pub versioning: Versioning,
    /// Lifecycle rules, in order.
    #[serde(default)]
    pub lifecycle: Vec<LifecycleRule>,
    /// Object Lock default retention, when the bucket has Object Lock.
    #[serde(default)]
    pub object_lock: Option<ObjectLock>,
    /// The bucket policy document; `None` when the bucket has none.
    #[serde(default)]
    pub policy: Option<Value>,
}

/// Bucket default encryption as `GetBucketEncryption` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefaultEncryption {
    /// `aws:kms`, `aws:kms:dsse` or `AES256`; the agent refuses anything else.
    pub sse_algorithm: String,
    /// The key ARN for SSE-KMS (Key 1); `None` for `AES256`.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// S3 Bucket Keys: fewer KMS calls, bucket-ARN encryption context.
    pub bucket_key_enabled: bool,
}

/// The bucket's public-access block; all four `true` is the only safe value for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicAccessBlock {
    /// Reject requests that set public ACLs.
    pub block_public_acls: bool,
    /// Ignore public ACLs already present.
    pub ignore_public_acls: bool,
    /// Reject public bucket policies.
    pub block_public_policy: bool,
    /// Restrict access under a public policy to AWS services and the owner.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Every switch on.
    pub const ALL: Self = Self {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// Bucket versioning; `Disabled` means never enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    /// Versioning on: overwrites keep the old version.
    Enabled,
    /// Was on, now suspended.
    Suspended,
    /// Never enabled.
    Disabled,
}

/// One lifecycle rule, in the words of the S3 API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LifecycleRule {
    /// Rule id.
    pub id: String,
    /// Whether the rule runs.
    pub enabled: bool,
    /// Key prefix the rule applies to; empty for the whole bucket.
    pub prefix: String,
    /// Days after creation when current versions expire.
    #[serde(default)]
    pub expiration_days: Option<u32>,
    /// Storage-class transitions of current versions.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Days after becoming noncurrent when old versions are deleted.
    #[serde(default)]
    pub noncurrent_version_expiration_days: Option<u32>,
    /// Days after which unfinished multipart uploads are aborted.
    #[serde(default)]
    pub abort_incomplete_multipart_upload_days: Option<u32>,
}

/// A move to a cheaper storage class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transition {
    /// Days after creation.
    pub days: u32,
    /// `STANDARD_IA`, `GLACIER_IR`, `GLACIER`, `DEEP_ARCHIVE`, …
    pub storage_class: String,
}

/// Object Lock default retention: logs that nobody, or only a privileged few, can delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectLock {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    /// Default retention in days.
    pub days: u32,
}

/// A KMS key in the log-archive account: one entry per key resource, so a multi-Region key
/// is its primary plus one entry per replica, each with its own ARN and key policy (KMS
/// keeps replica key policies, aliases and enabled state apart; only the key id, the key
/// material and rotation are shared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Key {
    /// `bucket-key` or `session-key`, or `<primary>@<region>` for a replica; also the file
    /// name of its key policy.
    pub name: String,
    /// What the key protects.
    pub purpose: KeyPurpose,
    /// Key ARN. Before the key exists it is a placeholder (see `arn_is_placeholder`).
    pub arn: String,
    /// True while `arn` is `arn:aws:kms:REGION:ACCOUNT:key/ssmlog-pending-<name>` (or
    /// `…:key/mrk-ssmlog-pending-<name>` for a multi-Region key and its replicas), to be
    /// replaced by the real ARN once the key is created.
    pub arn_is_placeholder: bool,
    /// A multi-Region key (key id `mrk-…`): the primary and each of its replicas.
    #[serde(default)]
    pub multi_region: bool,
    /// For a replica, the `name` of its primary key in this State; `None` for a primary or a
    /// single-Region key.
    #[serde(default)]
    pub replica_of: Option<String>,
    /// `alias/…`, when the key has one.
    #[serde(default)]
    pub alias: Option<String>,
    /// Principal ARNs allowed to administer (not use) the key.
    #[serde(default)]
    pub administrators: Vec<String>,
    /// Yearly automatic rotation.
    pub rotation_enabled: bool,
    /// The key policy; `None` only when it could not be read.
    #[serde(default)]
    pub policy: Option<Value>,
}

/// What a key protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyPurpose {
    /// Key 1: bucket default encryption (SSE-KMS).
    Bucket,
    /// Key 2: Session Manager data-channel encryption (`kmsKeyId` in the preferences).
    Session,
    /// One key for both.
    BucketAndSession,
}

/// A member account that sends session logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    /// 12-digit account id.
    pub id: String,
    /// Friendly name, for reports only.
    #[serde(default)]
    pub name: Option<String>,
    /// Regions where sessions run, sorted.
    pub regions: Vec<Region>,
    /// Instance roles the SSM Agent uses, sorted by name.
    pub roles: Vec<Role>,
}

/// One account/region: where a preferences document decides where logs go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Region {
    /// Region name, e.g. `eu-west-1`.
    pub name: String,
    /// Content of `SSM-SessionManagerRunShell`; `None` when the document does not exist.
    #[serde(default)]
    pub preferences: Option<Value>,
}

/// An IAM role the SSM Agent runs as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    /// Role name without path.
    pub name: String,
    /// Role path, `/` or `/service-role/` and the like.
    pub path: String,
    /// Why the role is here.
    pub kind: RoleKind,
    /// Managed policies attached, by ARN (not stored as documents).
    #[serde(default)]
    pub managed_policy_arns: Vec<String>,
    /// Trust policy, recorded when ssmlog creates the role or when pulled.
    #[serde(default)]
    pub trust_policy: Option<Value>,
    /// Inline identity policies, sorted by name.
    pub policies: Vec<NamedPolicy>,
}

impl Role {
    /// The role ARN in `account_id`, as `aws:PrincipalArn` sees it.
    pub fn arn(&self, account_id: &str) -> String {
        format!("arn:aws:iam::{account_id}:role{}{}", self.path, self.name)
    }
}

/// Where an instance role comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleKind {
    /// A role that already exists in the account; ssmlog only attaches a policy.
    Existing,
    /// The Default Host Management Configuration role.
    DefaultHostManagement,
    /// A role (and instance profile) that ssmlog creates.
    Created,
}

/// A named policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedPolicy {
    /// Policy name; also its file name.
    pub name: String,
    /// The policy document.
    pub document: Value,
}

/// The SCPs or RCPs attached to one organization target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetPolicies {
    /// `r-…` (root), `ou-…` or a 12-digit account id.
    pub target: String,
    /// Policies attached to it, sorted by name.
    pub policies: Vec<NamedPolicy>,
}

impl Key {
    /// The region in the key ARN (`arn:aws:kms:REGION:…`).
    pub fn region(&self) -> &str {
        self.arn.split(':').nth(3).unwrap_or_default()
    }

    /// The key id, the last part of the ARN (`mrk-…` for multi-Region keys).
    pub fn key_id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or_default()
    }
}

impl State {
    /// The replicas of the key named `primary`, in State order.
    pub fn replicas_of<'a>(&'a self, primary: &'a str) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.replica_of.as_deref() == Some(primary))
    }

    /// The key that encrypts the bucket (Key 1).
    pub fn bucket_key(&self) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| matches!(k.purpose, KeyPurpose::Bucket | KeyPurpose::BucketAndSession))
    }

    /// The key that encrypts session data (Key 2, or Key 1 in single-key mode); for a
    /// multi-Region key, its primary (see [`State::session_key_in`] for one region's).
    pub fn session_key(&self) -> Option<&Key> {
        self.keys.iter().find(|k| {
            matches!(
                k.purpose,
                KeyPurpose::Session | KeyPurpose::BucketAndSession
            )
        })
    }

    /// The session key that lives in `region`: the session key itself, or one of its
    /// replicas. KMS keys are regional, so sessions in `region` can use no other.
    pub fn session_key_in(&self, region: &str) -> Option<&Key> {
        let primary = self.session_key()?;
        std::iter::once(primary)
            .chain(self.replicas_of(&primary.name))
            .find(|k| k.region() == region)
    }

    /// Every policy document with its kind and its path inside the State directory, so
    /// callers can validate or prove each one without knowing the layout.
    pub fn documents(&self) -> Vec<DocumentRef<'_>> {
        let mut out = Vec::new();
        for key in &self.keys {
            if let Some(doc) = &key.policy {
                out.push(DocumentRef {
                    path: crate::layout::key_policy(&key.name),
                    kind: DocumentKind::KeyPolicy,
                    document: doc,
                });
            }
        }
        if let Some(doc) = &self.bucket.policy {
            out.push(DocumentRef {
                path: crate::layout::BUCKET_POLICY.to_string(),
                kind: DocumentKind::BucketPolicy,
                document: doc,
            });
        }
        for account in &self.accounts {
            for role in &account.roles {
                if let Some(doc) = &role.trust_policy {
                    out.push(DocumentRef {
                        path: crate::layout::trust_policy(&account.id, &role.name),
                        kind: DocumentKind::TrustPolicy,
                        document: doc,
                    });
                }
                for p in &role.policies {
                    out.push(DocumentRef {
                        path: crate::layout::role_policy(&account.id, &role.name, &p.name),
                        kind: DocumentKind::Identity,
                        document: &p.document,
                    });
                }
            }
            for region in &account.regions {
                if let Some(doc) = &region.preferences {
                    out.push(DocumentRef {
                        path: crate::layout::preferences(&account.id, &region.name),
                        kind: DocumentKind::Preferences,
                        document: doc,
                    });
                }
            }
        }
        for n in &self.networks {
            for vpc in &n.vpcs {
                for e in &vpc.endpoints {
                    if let Some(doc) = &e.policy {
                        out.push(DocumentRef {
                            path: crate::layout::endpoint_policy(&n.account, &n.region, &e.id),
                            kind: DocumentKind::VpcEndpointPolicy,
                            document: doc,
                        });
                    }
                }
            }
        }
        for (targets, kind, f) in [
            (
                &self.scps,
                DocumentKind::Scp,
                crate::layout::scp as fn(&str, &str) -> String,
            ),
            (&self.rcps, DocumentKind::Rcp, crate::layout::rcp),
        ] {
            for t in targets {
                for p in &t.policies {
                    out.push(DocumentRef {
                        path: f(&t.target, &p.name),
                        kind,
                        document: &p.document,
                    });
                }
            }
        }
        out
    }
}

/// One document inside a State, with where it lives in the directory layout.
#[derive(Debug, Clone)]
pub struct DocumentRef<'a> {
    /// Path relative to the State directory, `/`-separated.
    pub path: String,
    /// What kind of document it is.
    pub kind: DocumentKind,
    /// The document.
    pub document: &'a Value,
}

/// The kinds of documents a State holds, mapping onto the IAM validator's policy kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A KMS key policy.
    KeyPolicy,
    /// The S3 bucket policy.
    BucketPolicy,
    /// An identity policy attached to a role.
    Identity,
    /// A role trust policy.
    TrustPolicy,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A VPC endpoint policy.
    VpcEndpointPolicy,
    /// A Session Manager preferences document (not an IAM policy).
    Preferences,
}
