//! A State as a set of files (path → bytes) and back, without touching the disk.
//!
//! `state.json` is the manifest: every setting, plus which documents exist. Each document
//! is its own file at the path [`crate::layout`] gives it. Both directions are pure so the
//! snapshot tests and the benchmark measure exactly what the directory writer writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical;
use crate::error::StateError;
use crate::layout;
use crate::model::{
    Account, Bucket, DefaultEncryption, EndpointKind, Key, KeyPurpose, LifecycleRule, LogArchive,
    NamedPolicy, ObjectLock, Organization, PublicAccessBlock, Region, RegionNetwork, Role,
    RoleKind, RouteTable, State, Subnet, TargetPolicies, Unreachable, Versioning, Vpc, VpcEndpoint,
    FORMAT, OLDER_FORMATS, READABLE_FORMATS,
};

/// A State directory in memory: relative `/`-separated path → file bytes, sorted by path.
pub type Files = BTreeMap<String, Vec<u8>>;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Manifest {
    format: String,
    producer: String,
    organization: Organization,
    log_archive: LogArchive,
    bucket: BucketManifest,
    keys: Vec<KeyManifest>,
    accounts: Vec<AccountManifest>,
    scps: Vec<TargetManifest>,
    rcps: Vec<TargetManifest>,
    /// Written only when not empty (a rendered State never has any), so the States of
    /// everything that reached every account read and diff as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unreachable: Vec<Unreachable>,
    /// Absent in States written before networks were recorded: no network known.
    #[serde(default)]
    networks: Vec<NetworkManifest>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NetworkManifest {
    account: String,
    region: String,
    vpcs: Vec<VpcManifest>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VpcManifest {
    id: String,
    subnets: Vec<Subnet>,
    route_tables: Vec<RouteTable>,
    endpoints: Vec<EndpointManifest>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EndpointManifest {
    id: String,
    kind: EndpointKind,
    service_name: String,
    private_dns: bool,
    subnets: Vec<String>,
    route_tables: Vec<String>,
    has_policy: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BucketManifest {
    name: String,
    region: String,
    default_encryption: DefaultEncryption,
    public_access_block: PublicAccessBlock,
    object_ownership: String,
    versioning: Versioning,
    lifecycle: Vec<LifecycleRule>,
    object_lock: Option<ObjectLock>,
    has_policy: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyManifest {
    name: String,
    purpose: KeyPurpose,
    arn: String,
    arn_is_placeholder: bool,
    multi_region: bool,
    replica_of: Option<String>,
    alias: Option<String>,
    administrators: Vec<String>,
    rotation_enabled: bool,
    has_policy: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountManifest {
    id: String,
    name: Option<String>,
    regions: Vec<RegionManifest>,
    roles: Vec<RoleManifest>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegionManifest {
    name: String,
    has_preferences: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleManifest {
    name: String,
    path: String,
    kind: RoleKind,
    managed_policy_arns: Vec<String>,
    has_trust_policy: bool,
    policies: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TargetManifest {
    target: String,
    policies: Vec<String>,
}

fn check(file: &str, json_path: String, name: &str) -> Result<(), StateError> {
    layout::check_segment(name)
        .map_err(|why| StateError::new(file, Some(json_path), format!("name `{name}` {why}")))
}

/// Checks every name that becomes a path segment, so neither direction can leave the
/// State directory.
fn check_names(m: &Manifest) -> Result<(), StateError> {
    let f = layout::MANIFEST;
    for (i, k) in m.keys.iter().enumerate() {
        check(f, format!("$.keys[{i}].name"), &k.name)?;
    }
    check_keys(&m.keys)?;
    for (i, a) in m.accounts.iter().enumerate() {
        check(f, format!("$.accounts[{i}].id"), &a.id)?;
        for (j, r) in a.regions.iter().enumerate() {
            check(f, format!("$.accounts[{i}].regions[{j}].name"), &r.name)?;
        }
        for (j, r) in a.roles.iter().enumerate() {
            check(f, format!("$.accounts[{i}].roles[{j}].name"), &r.name)?;
            for (k, p) in r.policies.iter().enumerate() {
                check(f, format!("$.accounts[{i}].roles[{j}].policies[{k}]"), p)?;
            }
        }
    }
    if let Some((at, message)) = m.organization.tree.as_ref().and_then(|t| t.problem()) {
        return Err(StateError::new(
            f,
            Some(format!("$.organization.tree.{at}")),
            message,
        ));
    }
    check_networks(m)?;
    for (label, list) in [("scps", &m.scps), ("rcps", &m.rcps)] {
        for (i, t) in list.iter().enumerate() {
            check(f, format!("$.{label}[{i}].target"), &t.target)?;
            for (k, p) in t.policies.iter().enumerate() {
                check(f, format!("$.{label}[{i}].policies[{k}]"), p)?;
            }
        }
    }
    Ok(())
}

/// Each network is of a member account's region, listed once; endpoint ids can be file
/// names; every VPC has one main route table; subnets and endpoints name route tables and
/// subnets of their own VPC.
fn check_networks(m: &Manifest) -> Result<(), StateError> {
    let err = |at: String, message: String| {
        Err(StateError::new(
            layout::MANIFEST,
            Some(format!("$.networks[{at}")),
            message,
        ))
    };
    // Indexed: a large organization has thousands of networks (1,000 accounts x 17
    // regions), and a scan of every earlier one for each was quadratic.
    let regions: std::collections::HashSet<(&str, &str)> = m
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| (a.id.as_str(), r.name.as_str())))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (i, n) in m.networks.iter().enumerate() {
        let place = (n.account.as_str(), n.region.as_str());
        if !regions.contains(&place) {
            return err(format!("{i}].region"), format!("account {} has no region `{}` in `accounts[]`: a network belongs to a member account's region", n.account, n.region));
        }
        if !seen.insert(place) {
            return err(
                format!("{i}].region"),
                format!("the network of {} {} is listed twice", n.account, n.region),
            );
        }
        let mut endpoints = std::collections::HashSet::new();
        for (j, v) in n.vpcs.iter().enumerate() {
            let at = |rest: &str| format!("{i}].vpcs[{j}].{rest}");
            let mains = v.route_tables.iter().filter(|t| t.main).count();
            if mains != 1 {
                return err(
                    at("routeTables"),
                    format!(
                        "VPC {} has {mains} main route tables; a VPC has exactly one",
                        v.id
                    ),
                );
            }
            let table = |id: &str| v.route_tables.iter().any(|t| t.id == id);
            for (k, s) in v.subnets.iter().enumerate() {
                if let Some(t) = s.route_table.as_deref().filter(|t| !table(t)) {
                    return err(
                        at(&format!("subnets[{k}].routeTable")),
                        format!(
                            "route table `{t}` of subnet {} is not one of VPC {}'s",
                            s.id, v.id
                        ),
                    );
                }
            }
            for (k, e) in v.endpoints.iter().enumerate() {
                check(
                    layout::MANIFEST,
                    format!("$.networks[{}", at(&format!("endpoints[{k}].id"))),
                    &e.id,
                )?;
                if !endpoints.insert(e.id.as_str()) {
                    return err(
                        at(&format!("endpoints[{k}].id")),
                        format!("endpoint `{}` is listed twice", e.id),
                    );
                }
                if let Some(t) = e.route_tables.iter().find(|t| !table(t)) {
                    return err(
                        at(&format!("endpoints[{k}].routeTables")),
                        format!(
                            "route table `{t}` of endpoint {} is not one of VPC {}'s",
                            e.id, v.id
                        ),
                    );
                }
                if let Some(s) = e
                    .subnets
                    .iter()
                    .find(|s| !v.subnets.iter().any(|o| &o.id == *s))
                {
                    return err(
                        at(&format!("endpoints[{k}].subnets")),
                        format!(
                            "subnet `{s}` of endpoint {} is not one of VPC {}'s",
                            e.id, v.id
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

/// Key names are unique; a multi-Region key's id starts `mrk-`; a replica names a
/// multi-Region primary listed before it, shares its account and key id, and is the only
/// one of that primary in its region, which is not the primary's.
fn check_keys(keys: &[KeyManifest]) -> Result<(), StateError> {
    let err = |i: usize, field: &str, message: String| {
        Err(StateError::new(
            layout::MANIFEST,
            Some(format!("$.keys[{i}].{field}")),
            message,
        ))
    };
    // arn:aws:kms:REGION:ACCOUNT:key/ID
    let parts = |arn: &str| {
        let mut p = arn.splitn(6, ':');
        let region = p.nth(3).unwrap_or_default().to_string();
        let account = p.next().unwrap_or_default().to_string();
        let id = arn.rsplit('/').next().unwrap_or_default().to_string();
        (region, account, id)
    };
    for (i, k) in keys.iter().enumerate() {
        if keys[..i].iter().any(|o| o.name == k.name) {
            return err(i, "name", format!("key name `{}` is used twice", k.name));
        }
        let (region, account, id) = parts(&k.arn);
        if k.multi_region && !id.starts_with("mrk-") {
            return err(
                i,
                "arn",
                format!("a multi-Region key's id starts with `mrk-`, not `{id}`"),
            );
        }
        let Some(primary) = &k.replica_of else {
            continue;
        };
        let Some(p) = keys[..i].iter().find(|o| &o.name == primary) else {
            return err(
                i,
                "replicaOf",
                format!("`{primary}` is not a key listed before this replica"),
            );
        };
        if !(k.multi_region && p.multi_region && p.replica_of.is_none()) {
            return err(
                i,
                "replicaOf",
                format!("only a multi-Region key can be a replica of a multi-Region primary key, and `{primary}` must be one"),
            );
        }
        let (p_region, p_account, p_id) = parts(&p.arn);
        if (account.as_str(), id.as_str()) != (p_account.as_str(), p_id.as_str()) {
            return err(
                i,
                "arn",
                format!("a replica has its primary's account and key id (`{p_account}`, `{p_id}`): only the region differs"),
            );
        }
        let same_region = region == p_region
            || keys[..i].iter().any(|o| {
                o.replica_of.as_deref() == Some(primary.as_str()) && parts(&o.arn).0 == region
            });
        if same_region {
            return err(
                i,
                "arn",
                format!("`{primary}` already has a key in {region}: a multi-Region key has at most one replica per region, never in its primary's"),
            );
        }
    }
    Ok(())
}

fn encode(path: &str, value: &Value) -> Result<Vec<u8>, StateError> {
    canonical::to_vec(value).map_err(|e| StateError::new(path, None, e.to_string()))
}

/// The manifest of `state`, built member by member so that [`write_manifest`] can stop
/// before the large members (`networks`) are ever built.
pub(crate) fn manifest(state: &State) -> Manifest {
    Manifest {
        format: FORMAT.to_string(),
        producer: state.producer.clone(),
        organization: state.organization.clone(),
        log_archive: state.log_archive.clone(),
        bucket: bucket_manifest(state),
        keys: key_manifests(state),
        accounts: account_manifests(state),
        scps: target_manifests(&state.scps),
        rcps: target_manifests(&state.rcps),
        unreachable: state.unreachable.clone(),
        networks: network_manifests(state),
    }
}

fn bucket_manifest(state: &State) -> BucketManifest {
    BucketManifest {
        name: state.bucket.name.clone(),
        region: state.bucket.region.clone(),
        default_encryption: state.bucket.default_encryption.clone(),
        public_access_block: state.bucket.public_access_block,
        object_ownership: state.bucket.object_ownership.clone(),
        versioning: state.bucket.versioning,
        lifecycle: state.bucket.lifecycle.clone(),
        object_lock: state.bucket.object_lock.clone(),
        has_policy: state.bucket.policy.is_some(),
    }
}

fn key_manifests(state: &State) -> Vec<KeyManifest> {
    state
        .keys
        .iter()
        .map(|k| KeyManifest {
            name: k.name.clone(),
            purpose: k.purpose,
            arn: k.arn.clone(),
            arn_is_placeholder: k.arn_is_placeholder,
            multi_region: k.multi_region,
            replica_of: k.replica_of.clone(),
            alias: k.alias.clone(),
            administrators: k.administrators.clone(),
            rotation_enabled: k.rotation_enabled,
            has_policy: k.policy.is_some(),
        })
        .collect()
}

fn account_manifests(state: &State) -> Vec<AccountManifest> {
    state
        .accounts
        .iter()
        .map(|a| AccountManifest {
            id: a.id.clone(),
            name: a.name.clone(),
            regions: a
                .regions
                .iter()
                .map(|r| RegionManifest {
                    name: r.name.clone(),
                    has_preferences: r.preferences.is_some(),
                })
                .collect(),
            roles: a
                .roles
                .iter()
                .map(|r| RoleManifest {
                    name: r.name.clone(),
                    path: r.path.clone(),
                    kind: r.kind,
                    managed_policy_arns: r.managed_policy_arns.clone(),
                    has_trust_policy: r.trust_policy.is_some(),
                    policies: r.policies.iter().map(|p| p.name.clone()).collect(),
                })
                .collect(),
        })
        .collect()
}

fn network_manifests(state: &State) -> Vec<NetworkManifest> {
    state
        .networks
        .iter()
        .map(|n| NetworkManifest {
            account: n.account.clone(),
            region: n.region.clone(),
            vpcs: n
                .vpcs
                .iter()
                .map(|v| VpcManifest {
                    id: v.id.clone(),
                    subnets: v.subnets.clone(),
                    route_tables: v.route_tables.clone(),
                    endpoints: v
                        .endpoints
                        .iter()
                        .map(|e| EndpointManifest {
                            id: e.id.clone(),
                            kind: e.kind,
                            service_name: e.service_name.clone(),
                            private_dns: e.private_dns,
                            subnets: e.subnets.clone(),
                            route_tables: e.route_tables.clone(),
                            has_policy: e.policy.is_some(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// A member of the manifest: its name and how to build its value.
type Member<'s> = (
    &'static str,
    Box<dyn Fn() -> serde_json::Result<Value> + 's>,
);

/// The manifest's members in the order canonical JSON writes them (sorted by name), each
/// built only when written. `unreachable` is left out when empty, as [`Manifest`] does.
fn manifest_members(state: &State) -> Vec<Member<'_>> {
    let mut members: Vec<Member<'_>> = vec![
        ("format", Box::new(|| serde_json::to_value(FORMAT))),
        (
            "producer",
            Box::new(|| serde_json::to_value(&state.producer)),
        ),
        (
            "organization",
            Box::new(|| serde_json::to_value(&state.organization)),
        ),
        (
            "logArchive",
            Box::new(|| serde_json::to_value(&state.log_archive)),
        ),
        (
            "bucket",
            Box::new(|| serde_json::to_value(bucket_manifest(state))),
        ),
        (
            "keys",
            Box::new(|| serde_json::to_value(key_manifests(state))),
        ),
        (
            "accounts",
            Box::new(|| serde_json::to_value(account_manifests(state))),
        ),
        (
            "scps",
            Box::new(|| serde_json::to_value(target_manifests(&state.scps))),
        ),
        (
            "rcps",
            Box::new(|| serde_json::to_value(target_manifests(&state.rcps))),
        ),
        (
            "networks",
            Box::new(|| serde_json::to_value(network_manifests(state))),
        ),
    ];
    if !state.unreachable.is_empty() {
        members.push((
            "unreachable",
            Box::new(|| serde_json::to_value(&state.unreachable)),
        ));
    }
    members.sort_by_key(|(name, _)| *name);
    members
}

/// Writes the manifest (`state.json`) of `state` as [`to_files`] does, member by member:
/// a reader that has what it needs (where each account is first named, say) stops the
/// write with an error of its own, and the members after that point are never built. The
/// names are not checked here; [`manifest_file`] and [`to_files`] check them.
pub fn write_manifest(state: &State, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(b"{")?;
    for (i, (name, member)) in manifest_members(state).into_iter().enumerate() {
        out.write_all(if i == 0 { b"\n  \"" } else { b",\n  \"" })?;
        out.write_all(name.as_bytes())?;
        out.write_all(b"\": ")?;
        let mut value = member().map_err(std::io::Error::other)?;
        canonical::sort_in_place(&mut value);
        serde_json::to_writer_pretty(Indented(&mut *out), &value)?;
    }
    out.write_all(b"\n}\n")
}

/// Indents by one level (two spaces) what a pretty writer writes at the top level: JSON
/// text has no raw newline inside a string, so every newline starts a line of structure.
struct Indented<'w>(&'w mut dyn std::io::Write);

impl std::io::Write for Indented<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut lines = buf.split(|&b| b == b'\n');
        if let Some(first) = lines.next() {
            self.0.write_all(first)?;
        }
        for line in lines {
            self.0.write_all(b"\n  ")?;
            self.0.write_all(line)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The manifest (`state.json`) of `state` as [`to_files`] writes it, without serialising
/// every document: for a caller that needs this one file of a large State. Fails as
/// [`to_files`] does on a name that cannot be a path segment.
pub fn manifest_file(state: &State) -> Result<Vec<u8>, StateError> {
    check_names(&manifest(state))?;
    let mut out = Vec::new();
    write_manifest(state, &mut out)
        .map_err(|e| StateError::new(layout::MANIFEST, None, e.to_string()))?;
    Ok(out)
}

/// Serialises `state` into its files, canonically (sorted keys, pretty, trailing newline).
///
/// Fails only on a name that cannot be a path segment (`..`, `a/b`), or two documents
/// that would land on the same path.
pub fn to_files(state: &State) -> Result<Files, StateError> {
    let mut files = Files::new();
    files.insert(layout::MANIFEST.to_string(), manifest_file(state)?);
    for doc in state.documents() {
        let bytes = encode(&doc.path, doc.document)?;
        if files.insert(doc.path.clone(), bytes).is_some() {
            return Err(StateError::new(
                &doc.path,
                None,
                "two documents of the State map to this file (duplicate name)".to_string(),
            ));
        }
    }
    Ok(files)
}

fn target_manifests(list: &[TargetPolicies]) -> Vec<TargetManifest> {
    list.iter()
        .map(|t| TargetManifest {
            target: t.target.clone(),
            policies: t.policies.iter().map(|p| p.name.clone()).collect(),
        })
        .collect()
}

/// Reads one document file: valid JSON, and an object at the top.
fn document(files: &Files, used: &mut Vec<String>, path: String) -> Result<Value, StateError> {
    let Some(bytes) = files.get(&path) else {
        return Err(StateError::new(
            &path,
            None,
            "file is missing but state.json says it exists".to_string(),
        ));
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| StateError::json(&path, &e))?;
    if !value.is_object() {
        return Err(StateError::new(
            &path,
            Some("$".into()),
            "expected a JSON object (a whole document)".to_string(),
        ));
    }
    used.push(path);
    Ok(value)
}

fn optional(
    files: &Files,
    used: &mut Vec<String>,
    present: bool,
    path: String,
) -> Result<Option<Value>, StateError> {
    if present {
        document(files, used, path).map(Some)
    } else if files.contains_key(&path) {
        Err(StateError::new(
            &path,
            None,
            "file exists but state.json says it does not (set the matching `has…` flag to true or remove the file)"
                .to_string(),
        ))
    } else {
        Ok(None)
    }
}

fn named(
    files: &Files,
    used: &mut Vec<String>,
    names: &[String],
    path: impl Fn(&str) -> String,
) -> Result<Vec<NamedPolicy>, StateError> {
    names
        .iter()
        .map(|n| {
            Ok(NamedPolicy {
                name: n.clone(),
                document: document(files, used, path(n))?,
            })
        })
        .collect()
}

/// Refuses another format before the manifest is read field by field, so an older State
/// gets "re-render" rather than a complaint about a field it could not know.
fn check_format(bytes: &[u8]) -> Result<(), StateError> {
    #[derive(Deserialize)]
    struct Format {
        format: Option<String>,
    }
    let Ok(Format {
        format: Some(format),
    }) = serde_json::from_slice::<Format>(bytes)
    else {
        return Ok(()); // the full read reports what is wrong
    };
    if format == FORMAT || READABLE_FORMATS.contains(&format.as_str()) {
        return Ok(());
    }
    let message = match OLDER_FORMATS.iter().find(|(old, _)| *old == format) {
        Some((_, change)) => format!(
            "format `{format}` is an older layout that this ssmlog no longer reads ({change}): re-render it with `ssmlog render`, or re-pull it"
        ),
        None => format!(
            "format `{format}` is not supported; this ssmlog reads `{FORMAT}` (re-render or re-pull the State)"
        ),
    };
    Err(StateError::new(
        layout::MANIFEST,
        Some("$.format".into()),
        message,
    ))
}

/// Reads a State from its files. Every file under `log-archive/`, `accounts/` and
/// `organization/` must be one that `state.json` refers to; other top-level files (a
/// README, `.git`) are not part of the State and are ignored.
pub fn from_files(files: &Files) -> Result<State, StateError> {
    let Some(bytes) = files.get(layout::MANIFEST) else {
        return Err(StateError::new(
            layout::MANIFEST,
            None,
            "not found: a State directory starts with state.json (run `ssmlog render --out DIR`)"
                .to_string(),
        ));
    };
    check_format(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let manifest: Manifest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = format!("$.{}", e.path());
        let path = if path == "$.." { "$".to_string() } else { path };
        StateError::json_at(layout::MANIFEST, path, e.inner())
    })?;
    check_names(&manifest)?;

    let mut used = vec![layout::MANIFEST.to_string()];
    let m = manifest;
    let bucket_policy = optional(
        files,
        &mut used,
        m.bucket.has_policy,
        layout::BUCKET_POLICY.into(),
    )?;
    let mut keys = Vec::with_capacity(m.keys.len());
    for k in m.keys {
        let policy = optional(files, &mut used, k.has_policy, layout::key_policy(&k.name))?;
        keys.push(Key {
            name: k.name,
            purpose: k.purpose,
            arn: k.arn,
            arn_is_placeholder: k.arn_is_placeholder,
            multi_region: k.multi_region,
            replica_of: k.replica_of,
            alias: k.alias,
            administrators: k.administrators,
            rotation_enabled: k.rotation_enabled,
            policy,
        });
    }
    let mut accounts = Vec::with_capacity(m.accounts.len());
    for a in m.accounts {
        let mut regions = Vec::with_capacity(a.regions.len());
        for r in a.regions {
            let preferences = optional(
                files,
                &mut used,
                r.has_preferences,
                layout::preferences(&a.id, &r.name),
            )?;
            regions.push(Region {
                name: r.name,
                preferences,
            });
        }
        let mut roles = Vec::with_capacity(a.roles.len());
        for r in a.roles {
            let trust_policy = optional(
                files,
                &mut used,
                r.has_trust_policy,
                layout::trust_policy(&a.id, &r.name),
            )?;
            let policies = named(files, &mut used, &r.policies, |p| {
                layout::role_policy(&a.id, &r.name, p)
            })?;
            roles.push(Role {
                name: r.name,
                path: r.path,
                kind: r.kind,
                managed_policy_arns: r.managed_policy_arns,
                trust_policy,
                policies,
            });
        }
        accounts.push(Account {
            id: a.id,
            name: a.name,
            regions,
            roles,
        });
    }
    let mut targets = |list: Vec<TargetManifest>, f: fn(&str, &str) -> String| {
        list.into_iter()
            .map(|t| {
                let policies = named(files, &mut used, &t.policies, |p| f(&t.target, p))?;
                Ok(TargetPolicies {
                    target: t.target,
                    policies,
                })
            })
            .collect::<Result<Vec<_>, StateError>>()
    };
    let scps = targets(m.scps, layout::scp)?;
    let rcps = targets(m.rcps, layout::rcp)?;
    let mut networks = Vec::with_capacity(m.networks.len());
    for n in m.networks {
        let mut vpcs = Vec::with_capacity(n.vpcs.len());
        for v in n.vpcs {
            let mut endpoints = Vec::with_capacity(v.endpoints.len());
            for e in v.endpoints {
                let policy = optional(
                    files,
                    &mut used,
                    e.has_policy,
                    layout::endpoint_policy(&n.account, &n.region, &e.id),
                )?;
                endpoints.push(VpcEndpoint {
                    id: e.id,
                    kind: e.kind,
                    service_name: e.service_name,
                    private_dns: e.private_dns,
                    subnets: e.subnets,
                    route_tables: e.route_tables,
                    policy,
                });
            }
            vpcs.push(Vpc {
                id: v.id,
                subnets: v.subnets,
                route_tables: v.route_tables,
                endpoints,
            });
        }
        networks.push(RegionNetwork {
            account: n.account,
            region: n.region,
            vpcs,
        });
    }

    used.sort();
    for path in files.keys() {
        let owned = layout::OWNED_DIRS.iter().any(|d| {
            path.strip_prefix(d)
                .is_some_and(|rest| rest.starts_with('/'))
        });
        if owned && used.binary_search(path).is_err() {
            return Err(StateError::new(
                path,
                None,
                "file is not part of the State: state.json does not refer to it (remove it, or list it in state.json)"
                    .to_string(),
            ));
        }
    }

    Ok(State {
        producer: m.producer,
        organization: m.organization,
        log_archive: m.log_archive,
        bucket: Bucket {
            name: m.bucket.name,
            region: m.bucket.region,
            default_encryption: m.bucket.default_encryption,
            public_access_block: m.bucket.public_access_block,
            object_ownership: m.bucket.object_ownership,
            versioning: m.bucket.versioning,
            lifecycle: m.bucket.lifecycle,
            object_lock: m.bucket.object_lock,
            policy: bucket_policy,
        },
        keys,
        accounts,
        scps,
        rcps,
        unreachable: m.unreachable,
        networks,
    })
}
