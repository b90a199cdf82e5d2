//! The only IO in this crate: a State directory on disk.
//!
//! Writing stages every file in a fresh directory beside the target, then swaps the
//! State's own top-level entries (`state.json`, `log-archive/`, `accounts/`,
//! `organization/`) into place with renames. An error before the swap leaves the target as
//! it was; other entries in the target (a README, `.git`) are never touched.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::StateError;
use crate::files::{from_files, to_files, Files};
use crate::layout;
use crate::model::State;

/// Why a State (or any file tree) could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// The State itself cannot be laid out as files (a bad name).
    State(StateError),
    /// A filesystem operation failed on `path`.
    Io {
        /// The path the operation was on.
        path: PathBuf,
        /// What was being done (`create directory`, `write`, `rename`).
        action: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::State(e) => write!(f, "{e}"),
            WriteError::Io {
                path,
                action,
                source,
            } => {
                write!(f, "{}: cannot {action}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::State(e) => Some(e),
            WriteError::Io { source, .. } => Some(source),
        }
    }
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.to_path_buf();
    move |source| WriteError::Io {
        path,
        action,
        source,
    }
}

/// Writes `state` as a State directory at `target` (created if missing), replacing the
/// State files already there.
pub fn write_dir(state: &State, target: &Path) -> Result<(), WriteError> {
    let files = to_files(state).map_err(WriteError::State)?;
    let mut owned: Vec<&str> = vec![layout::MANIFEST];
    owned.extend(layout::OWNED_DIRS);
    write_tree(target, &files, &owned)
}

/// Writes `files` (relative `/`-separated paths) under `target` without leaving a
/// half-written tree: everything is written into a staging directory beside `target`, then
/// each top-level entry named in `owned` is swapped in by rename. Entries of `target` not in
/// `owned` are kept. Every top-level entry of `files` must be in `owned`.
pub fn write_tree(target: &Path, files: &Files, owned: &[&str]) -> Result<(), WriteError> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent, "create directory"))?;
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_string());
    let stage = unique(&parent, &format!(".{base}.ssmlog-new"))?;
    let result = stage_files(&stage, files, owned).and_then(|()| swap_in(&stage, target, owned));
    let _ = fs::remove_dir_all(&stage);
    result
}

/// Creates a fresh directory `parent/prefix-<pid>-<n>`.
fn unique(parent: &Path, prefix: &str) -> Result<PathBuf, WriteError> {
    let pid = std::process::id();
    for n in 0..1000u32 {
        let p = parent.join(format!("{prefix}-{pid}-{n}"));
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(&p, "create directory")(e)),
        }
    }
    Err(WriteError::Io {
        path: parent.join(prefix),
        action: "create a staging directory",
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            "too many leftover staging directories",
        ),
    })
}

fn stage_files(stage: &Path, files: &Files, owned: &[&str]) -> Result<(), WriteError> {
    for (rel, bytes) in files {
        let top = rel.split('/').next().unwrap_or_default();
        if !owned.contains(&top)
            || rel
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(WriteError::State(StateError::new(
                rel,
                None,
                "path is outside the State layout".to_string(),
            )));
        }
        let path = stage.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        }
        fs::write(&path, bytes).map_err(io_err(&path, "write"))?;
    }
    Ok(())
}

fn swap_in(stage: &Path, target: &Path, owned: &[&str]) -> Result<(), WriteError> {
    if !target.exists() {
        return fs::rename(stage, target).map_err(io_err(target, "rename the staged directory to"));
    }
    if !target.is_dir() {
        return Err(WriteError::Io {
            path: target.to_path_buf(),
            action: "write a directory at",
            source: io::Error::new(io::ErrorKind::AlreadyExists, "a file is in the way"),
        });
    }
    let parent = stage.parent().unwrap_or(Path::new("."));
    let trash = unique(parent, ".ssmlog-old")?;
    let mut moved_out: Vec<&str> = Vec::new();
    let mut moved_in: Vec<&str> = Vec::new();
    let mut outcome = Ok(());
    for name in owned {
        let old = target.join(name);
        if old.symlink_metadata().is_ok() {
            if let Err(e) = fs::rename(&old, trash.join(name)) {
                outcome = Err(io_err(&old, "move aside")(e));
                break;
            }
            moved_out.push(name);
        }
    }
    if outcome.is_ok() {
        for name in owned {
            let new = stage.join(name);
            if new.exists() {
                if let Err(e) = fs::rename(&new, target.join(name)) {
                    outcome = Err(io_err(&target.join(name), "rename into place")(e));
                    break;
                }
                moved_in.push(name);
            }
        }
    }
    if outcome.is_err() {
        // Roll back: take out what was moved in, put back what was moved out.
        for name in moved_in {
            let _ = fs::rename(target.join(name), stage.join(name));
        }
        for name in moved_out {
            let _ = fs::rename(trash.join(name), target.join(name));
        }
    }
    let _ = fs::remove_dir_all(&trash);
    outcome
}

/// Reads the State directory at `dir`. Errors name the file (under `dir`) and the JSON path.
pub fn read_dir(dir: &Path) -> Result<State, StateError> {
    let mut files = Files::new();
    let manifest = dir.join(layout::MANIFEST);
    let bytes = fs::read(&manifest).map_err(|e| {
        StateError::new(
            &manifest.display().to_string(),
            None,
            format!("cannot read: {e}"),
        )
    })?;
    files.insert(layout::MANIFEST.to_string(), bytes);
    for top in layout::OWNED_DIRS {
        collect(dir, top, &mut files)?;
    }
    from_files(&files).map_err(|e| e.in_dir(dir))
}

fn collect(root: &Path, rel: &str, files: &mut Files) -> Result<(), StateError> {
    let path = root.join(rel);
    let meta = match path.symlink_metadata() {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StateError::new(
                &path.display().to_string(),
                None,
                format!("cannot read: {e}"),
            ))
        }
    };
    if meta.is_file() {
        let bytes = fs::read(&path).map_err(|e| {
            StateError::new(
                &path.display().to_string(),
                None,
                format!("cannot read: {e}"),
            )
        })?;
        files.insert(rel.to_string(), bytes);
    } else if meta.is_dir() {
        let entries = fs::read_dir(&path).map_err(|e| {
            StateError::new(
                &path.display().to_string(),
                None,
                format!("cannot list: {e}"),
            )
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                StateError::new(
                    &path.display().to_string(),
                    None,
                    format!("cannot list: {e}"),
                )
            })?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(StateError::new(
                    &path.display().to_string(),
                    None,
                    format!("{name:?} is not a UTF-8 file name"),
                ));
            };
            collect(root, &format!("{rel}/{name}"), files)?;
        }
    } else {
        return Err(StateError::new(
            &path.display().to_string(),
            None,
            "is neither a file nor a directory (symlinks are not followed)".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::model::*;
    use serde_json::json;

    fn sample() -> State {
        State {
            producer: "test".into(),
            organization: Organization {
                id: "o-a1b2c3d4e5".into(),
                management_account_id: None,
                tree: None,
            },
            log_archive: LogArchive {
                account_id: "111122223333".into(),
                region: "eu-west-1".into(),
            },
            bucket: Bucket {
                name: "logs".into(),
                region: "eu-west-1".into(),
                default_encryption: DefaultEncryption {
                    sse_algorithm: "aws:kms".into(),
                    kms_key_id: Some("arn:aws:kms:eu-west-1:111122223333:key/k".into()),
                    bucket_key_enabled: true,
                },
                public_access_block: PublicAccessBlock::ALL,
                object_ownership: "BucketOwnerEnforced".into(),
                versioning: Versioning::Enabled,
                lifecycle: Vec::new(),
                object_lock: None,
                policy: Some(json!({"Version": "2012-10-17", "Statement": []})),
            },
            keys: vec![Key {
                name: "bucket-key".into(),
                purpose: KeyPurpose::BucketAndSession,
                arn: "arn:aws:kms:eu-west-1:111122223333:key/k".into(),
                arn_is_placeholder: false,
                multi_region: false,
                replica_of: None,
                alias: None,
                administrators: Vec::new(),
                rotation_enabled: true,
                policy: Some(json!({"Version": "2012-10-17", "Statement": []})),
            }],
            accounts: vec![Account {
                id: "222233334444".into(),
                name: None,
                regions: vec![
                    Region {
                        name: "eu-west-1".into(),
                        preferences: Some(json!({"schemaVersion": "1.0"})),
                    },
                    Region {
                        name: "us-east-1".into(),
                        preferences: None,
                    },
                ],
                roles: vec![Role {
                    name: "R".into(),
                    path: "/".into(),
                    kind: RoleKind::Existing,
                    managed_policy_arns: Vec::new(),
                    trust_policy: None,
                    policies: vec![NamedPolicy {
                        name: "P".into(),
                        document: json!({"b": 1, "a": 2}),
                    }],
                }],
            }],
            scps: vec![TargetPolicies {
                target: "r-ab12".into(),
                policies: vec![NamedPolicy {
                    name: "FullAWSAccess".into(),
                    document: json!({}),
                }],
            }],
            rcps: Vec::new(),
            unreachable: Vec::new(),
            networks: Vec::new(),
        }
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ssmlog-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn writes_reads_back_and_rewrites_byte_identically() {
        let d = temp("roundtrip");
        let state = sample();
        write_dir(&state, &d).unwrap();
        assert_eq!(read_dir(&d).unwrap(), state);
        let policy =
            fs::read_to_string(d.join("accounts/222233334444/roles/R/policies/P.json")).unwrap();
        assert_eq!(policy, "{\n  \"a\": 2,\n  \"b\": 1\n}\n");
        assert!(!d.join("accounts/222233334444/regions/us-east-1").exists());
        let before = crate::files::to_files(&state).unwrap();
        write_dir(&state, &d).unwrap();
        let mut after = Files::new();
        after.insert(
            layout::MANIFEST.into(),
            fs::read(d.join(layout::MANIFEST)).unwrap(),
        );
        for top in layout::OWNED_DIRS {
            collect(&d, top, &mut after).unwrap();
        }
        assert_eq!(before, after);
        let leftovers: Vec<_> = fs::read_dir(d.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name().to_string_lossy().contains(&format!(
                    "ssmlog-state-roundtrip-{}.ssmlog",
                    std::process::id()
                ))
            })
            .collect();
        assert!(leftovers.is_empty());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_bad_name_fails_before_anything_is_touched() {
        let d = temp("badname");
        write_dir(&sample(), &d).unwrap();
        let before = fs::read(d.join(layout::MANIFEST)).unwrap();
        let mut bad = sample();
        bad.accounts[0].roles[0].name = "../../escape".into();
        let err = write_dir(&bad, &d).unwrap_err().to_string();
        assert!(err.contains("$.accounts[0].roles[0].name"), "{err}");
        assert_eq!(fs::read(d.join(layout::MANIFEST)).unwrap(), before);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn read_errors_name_the_file_and_the_json_path() {
        let d = temp("errors");
        write_dir(&sample(), &d).unwrap();
        let manifest = d.join(layout::MANIFEST);
        let text = fs::read_to_string(&manifest).unwrap();
        fs::write(
            &manifest,
            text.replace("\"hasPreferences\": true", "\"hasPreferences\": \"yes\""),
        )
        .unwrap();
        let err = read_dir(&d).unwrap_err();
        assert!(err.file.ends_with("state.json"), "{err}");
        assert_eq!(
            err.json_path.as_deref(),
            Some("$.accounts[0].regions[0].hasPreferences"),
            "{err}"
        );
        fs::write(&manifest, &text).unwrap();

        let prefs =
            d.join("accounts/222233334444/regions/eu-west-1/SSM-SessionManagerRunShell.json");
        fs::write(&prefs, "{\n  \"schemaVersion\": \n").unwrap();
        let err = read_dir(&d).unwrap_err();
        assert!(
            err.file.ends_with("SSM-SessionManagerRunShell.json") && err.line_column.is_some(),
            "{err}"
        );
        fs::remove_file(&prefs).unwrap();
        let err = read_dir(&d).unwrap_err().to_string();
        assert!(
            err.contains("missing but state.json says it exists"),
            "{err}"
        );
        fs::write(&prefs, "{}").unwrap();

        fs::write(d.join("accounts/222233334444/stray.json"), "{}").unwrap();
        let err = read_dir(&d).unwrap_err().to_string();
        assert!(
            err.contains("stray.json") && err.contains("not part of the State"),
            "{err}"
        );
        fs::remove_file(d.join("accounts/222233334444/stray.json")).unwrap();

        fs::write(d.join("README.md"), "not part of the State").unwrap();
        assert!(read_dir(&d).is_ok());
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn an_unknown_format_is_refused() {
        let d = temp("format");
        write_dir(&sample(), &d).unwrap();
        let manifest = d.join(layout::MANIFEST);
        let text = fs::read_to_string(&manifest)
            .unwrap()
            .replace(crate::FORMAT, "ssmlog-state/9");
        fs::write(&manifest, text).unwrap();
        let err = read_dir(&d).unwrap_err();
        assert_eq!(err.json_path.as_deref(), Some("$.format"));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_version_1_state_is_refused_with_what_changed() {
        let d = temp("format1");
        write_dir(&sample(), &d).unwrap();
        let manifest = d.join(layout::MANIFEST);
        // A real version 1 manifest: no multi-Region fields.
        let text = fs::read_to_string(&manifest)
            .unwrap()
            .replace(crate::FORMAT, "ssmlog-state/1")
            .replace("      \"multiRegion\": false,\n", "")
            .replace("      \"replicaOf\": null,\n", "");
        assert!(!text.contains("multiRegion"), "{text}");
        fs::write(&manifest, text).unwrap();
        let err = read_dir(&d).unwrap_err();
        assert_eq!(err.json_path.as_deref(), Some("$.format"));
        let msg = err.to_string();
        assert!(
            msg.contains("older layout") && msg.contains("ssmlog render"),
            "{msg}"
        );
        let _ = fs::remove_dir_all(&d);
    }

    fn with_tree() -> State {
        let mut s = sample();
        s.organization.tree = Some(OrgTree {
            root: "r-ab12".into(),
            units: vec![
                OrgUnit {
                    id: "ou-ab12-11111111".into(),
                    name: Some("Workloads".into()),
                    parent: "r-ab12".into(),
                },
                OrgUnit {
                    id: "ou-ab12-22222222".into(),
                    name: None,
                    parent: "ou-ab12-11111111".into(),
                },
            ],
            accounts: vec![
                OrgAccount {
                    id: "111122223333".into(),
                    parent: "r-ab12".into(),
                },
                OrgAccount {
                    id: "222233334444".into(),
                    parent: "ou-ab12-22222222".into(),
                },
            ],
        });
        s
    }

    #[test]
    fn the_organization_tree_round_trips_and_gives_each_account_its_path() {
        let s = with_tree();
        let files = crate::to_files(&s).unwrap();
        assert_eq!(crate::from_files(&files).unwrap(), s);
        let tree = s.organization.tree.as_ref().unwrap();
        let paths = tree.paths();
        assert_eq!(
            paths["222233334444"],
            [
                "r-ab12",
                "ou-ab12-11111111",
                "ou-ab12-22222222",
                "222233334444"
            ]
        );
        assert_eq!(paths["111122223333"], ["r-ab12", "111122223333"]);
        assert_eq!(
            tree.describe("ou-ab12-11111111"),
            "OU `ou-ab12-11111111` (Workloads)"
        );
    }

    #[test]
    fn a_broken_tree_is_refused_at_its_place() {
        for (mutate, at) in [
            (
                (|t: &mut OrgTree| t.units[0].parent = "ou-ab12-22222222".into())
                    as fn(&mut OrgTree),
                "$.organization.tree.units[0].parent",
            ),
            (
                |t: &mut OrgTree| t.accounts[1].parent = "ou-ab12-99999999".into(),
                "$.organization.tree.accounts[1].parent",
            ),
            (
                |t: &mut OrgTree| t.units[1].id = "ou-ab12-11111111".into(),
                "$.organization.tree.units[1].id",
            ),
            (
                |t: &mut OrgTree| t.root = "ou-ab12-00000000".into(),
                "$.organization.tree.root",
            ),
        ] {
            let mut s = with_tree();
            mutate(s.organization.tree.as_mut().unwrap());
            let err = crate::to_files(&s).unwrap_err();
            assert_eq!(err.json_path.as_deref(), Some(at), "{err}");
        }
    }

    #[test]
    fn a_version_2_state_is_still_read_without_a_tree() {
        let d = temp("format2");
        write_dir(&sample(), &d).unwrap();
        let manifest = d.join(layout::MANIFEST);
        // A real version 2 manifest: no `tree` in the organization.
        let text = fs::read_to_string(&manifest)
            .unwrap()
            .replace(crate::FORMAT, "ssmlog-state/2")
            .replace(",\n    \"tree\": null", "");
        assert!(!text.contains("tree"), "{text}");
        fs::write(&manifest, text).unwrap();
        assert_eq!(read_dir(&d).unwrap(), sample());
        let _ = fs::remove_dir_all(&d);
    }

    fn with_replica(mutate: impl FnOnce(&mut Key)) -> State {
        let mut s = sample();
        let primary = &mut s.keys[0];
        primary.arn =
            "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef".into();
        primary.multi_region = true;
        let mut replica = primary.clone();
        replica.name = "bucket-key@us-east-1".into();
        replica.purpose = KeyPurpose::Session;
        replica.arn = replica.arn.replace("eu-west-1", "us-east-1");
        replica.replica_of = Some("bucket-key".into());
        mutate(&mut replica);
        s.keys.push(replica);
        s
    }

    #[test]
    fn replicas_round_trip_with_their_own_key_policy_file() {
        let d = temp("replica");
        let state = with_replica(|_| {});
        write_dir(&state, &d).unwrap();
        assert!(d
            .join("log-archive/key-policies/bucket-key@us-east-1.json")
            .is_file());
        let back = read_dir(&d).unwrap();
        assert_eq!(back, state);
        assert_eq!(
            back.session_key_in("us-east-1").map(|k| k.name.as_str()),
            Some("bucket-key@us-east-1")
        );
        assert_eq!(
            back.session_key_in("eu-west-1").map(|k| k.name.as_str()),
            Some("bucket-key")
        );
        assert!(back.session_key_in("ap-south-1").is_none());
        let _ = fs::remove_dir_all(&d);
    }

    /// A change to a replica, the JSON path refused and words of the message.
    type ReplicaCase = (Box<dyn FnOnce(&mut Key)>, &'static str, &'static str);

    #[test]
    fn inconsistent_replicas_are_refused_with_the_field() {
        let cases: Vec<ReplicaCase> = vec![
            (
                Box::new(|k| k.replica_of = Some("nope".into())),
                "$.keys[1].replicaOf",
                "not a key listed before",
            ),
            (
                Box::new(|k| k.multi_region = false),
                "$.keys[1].replicaOf",
                "only a multi-Region key",
            ),
            (
                Box::new(|k| k.arn = k.arn.replace("mrk-", "")),
                "$.keys[1].arn",
                "starts with `mrk-`",
            ),
            (
                Box::new(|k| {
                    k.arn = k.arn.replace(
                        "0123456789abcdef0123456789abcdef",
                        "ffffffffffffffffffffffffffffffff",
                    )
                }),
                "$.keys[1].arn",
                "only the region differs",
            ),
            (
                Box::new(|k| k.arn = k.arn.replace("us-east-1", "eu-west-1")),
                "$.keys[1].arn",
                "at most one replica per region",
            ),
            (
                Box::new(|k| k.name = "bucket-key".into()),
                "$.keys[1].name",
                "used twice",
            ),
        ];
        for (mutate, path, words) in cases {
            let state = with_replica(mutate);
            let err = crate::files::to_files(&state).unwrap_err();
            assert_eq!(err.json_path.as_deref(), Some(path), "{err}");
            assert!(err.to_string().contains(words), "{err}");
        }
    }

    fn with_network(mutate: impl FnOnce(&mut RegionNetwork)) -> State {
        let mut s = sample();
        let mut n = RegionNetwork {
            account: "222233334444".into(),
            region: "eu-west-1".into(),
            vpcs: vec![Vpc {
                id: "vpc-1".into(),
                subnets: vec![
                    Subnet {
                        id: "subnet-a".into(),
                        route_table: None,
                        map_public_ip_on_launch: Some(true),
                    },
                    Subnet {
                        id: "subnet-b".into(),
                        route_table: Some("rtb-private".into()),
                        map_public_ip_on_launch: Some(false),
                    },
                ],
                route_tables: vec![
                    RouteTable {
                        id: "rtb-main".into(),
                        main: true,
                        routes: vec![Route {
                            destination: "0.0.0.0/0".into(),
                            target: RouteTarget::InternetGateway,
                            target_id: "igw-1".into(),
                        }],
                    },
                    RouteTable {
                        id: "rtb-private".into(),
                        main: false,
                        routes: vec![Route {
                            destination: "10.0.0.0/8".into(),
                            target: RouteTarget::Other,
                            target_id: "tgw-1".into(),
                        }],
                    },
                ],
                endpoints: vec![
                    VpcEndpoint {
                        id: "vpce-s3".into(),
                        kind: EndpointKind::Gateway,
                        service_name: "com.amazonaws.eu-west-1.s3".into(),
                        private_dns: false,
                        subnets: Vec::new(),
                        route_tables: vec!["rtb-private".into()],
                        policy: Some(json!({"Version": "2012-10-17", "Statement": []})),
                    },
                    VpcEndpoint {
                        id: "vpce-ssm".into(),
                        kind: EndpointKind::Interface,
                        service_name: "com.amazonaws.eu-west-1.ssm".into(),
                        private_dns: true,
                        subnets: vec!["subnet-b".into()],
                        route_tables: Vec::new(),
                        policy: None,
                    },
                ],
            }],
        };
        mutate(&mut n);
        s.networks.push(n);
        s
    }

    /// The member-by-member writer gives the bytes of the whole manifest written
    /// canonically at once, on States with every kind of member (a tree, replicas,
    /// networks, unreachable accounts) and without the optional ones.
    #[test]
    fn the_manifest_written_by_member_is_the_canonical_manifest() {
        let mut rich = with_network(|_| {});
        rich.organization.tree = with_tree().organization.tree;
        rich.keys = with_replica(|_| {}).keys;
        rich.unreachable.push(Unreachable {
            account: "999988887777".into(),
            region: None,
            reason: "sts:AssumeRole: AccessDenied".into(),
        });
        rich.bucket.object_lock = Some(ObjectLock {
            mode: "GOVERNANCE".into(),
            days: 30,
        });
        for state in [sample(), rich] {
            let whole = crate::canonical::to_vec(&crate::files::manifest(&state)).unwrap();
            let by_member = crate::files::manifest_file(&state).unwrap();
            assert_eq!(
                String::from_utf8(by_member).unwrap(),
                String::from_utf8(whole).unwrap()
            );
        }
    }

    /// A reader that stops the write gets its own error back, after a prefix of the text.
    #[test]
    fn a_manifest_reader_can_stop_the_write() {
        struct Until(Vec<u8>, usize);
        impl std::io::Write for Until {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0.len() >= self.1 {
                    return Err(std::io::Error::other("enough"));
                }
                self.0.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let state = with_network(|_| {});
        let whole = crate::files::manifest_file(&state).unwrap();
        let mut reader = Until(Vec::new(), 100);
        let stopped = crate::files::write_manifest(&state, &mut reader).unwrap_err();
        assert_eq!(stopped.to_string(), "enough");
        assert!(reader.0.len() >= 100 && reader.0.len() < whole.len());
        assert!(whole.starts_with(&reader.0));
    }

    #[test]
    fn networks_round_trip_with_endpoint_policy_files() {
        let d = temp("network");
        let state = with_network(|_| {});
        write_dir(&state, &d).unwrap();
        assert_eq!(read_dir(&d).unwrap(), state);
        assert!(d
            .join("accounts/222233334444/regions/eu-west-1/vpc-endpoints/vpce-s3.json")
            .exists());
        assert!(!d
            .join("accounts/222233334444/regions/eu-west-1/vpc-endpoints/vpce-ssm.json")
            .exists());
        assert_eq!(state.vpcs_known(), 1);
        assert_eq!(
            state.networks[0].vpcs[0].endpoints[1].service(),
            ("ssm", "eu-west-1")
        );
        // A State written before networks were recorded reads as "no network known".
        let manifest = d.join(layout::MANIFEST);
        write_dir(&sample(), &d).unwrap();
        let text = fs::read_to_string(&manifest)
            .unwrap()
            .replace(",\n  \"networks\": []", "");
        assert!(!text.contains("networks"), "{text}");
        fs::write(&manifest, text).unwrap();
        assert_eq!(read_dir(&d).unwrap(), sample());
        let _ = fs::remove_dir_all(&d);
    }

    /// Issue 13: `mapPublicIpOnLaunch` is written (`null` when unknown) and a State written
    /// before it existed still reads, as unknown.
    #[test]
    fn subnets_without_map_public_ip_on_launch_read_as_unknown() {
        let d = temp("public-ip");
        let state = with_network(|_| {});
        write_dir(&state, &d).unwrap();
        let manifest = d.join(layout::MANIFEST);
        let text = fs::read_to_string(&manifest).unwrap();
        assert!(text.contains("\"mapPublicIpOnLaunch\": true"), "{text}");
        assert!(text.contains("\"mapPublicIpOnLaunch\": false"), "{text}");
        let older: String = text
            .lines()
            .filter(|l| !l.contains("mapPublicIpOnLaunch"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(&manifest, older).unwrap();
        let read = read_dir(&d).unwrap();
        let subnets = &read.networks[0].vpcs[0].subnets;
        assert!(subnets.iter().all(|s| s.map_public_ip_on_launch.is_none()));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn inconsistent_networks_are_refused_with_the_field() {
        type Mutation = fn(&mut RegionNetwork);
        let cases: [(Mutation, &str, &str); 6] = [
            (
                |n| n.vpcs[0].endpoints[1].id = "vpce-s3".into(),
                "$.networks[0].vpcs[0].endpoints[1].id",
                "endpoint `vpce-s3` is listed twice",
            ),
            (
                |n| n.region = "ap-south-1".into(),
                "$.networks[0].region",
                "has no region",
            ),
            (
                |n| n.vpcs[0].subnets[1].route_table = Some("rtb-x".into()),
                "$.networks[0].vpcs[0].subnets[1].routeTable",
                "not one of VPC vpc-1's",
            ),
            (
                |n| n.vpcs[0].route_tables[1].main = true,
                "$.networks[0].vpcs[0].routeTables",
                "2 main route tables",
            ),
            (
                |n| n.vpcs[0].endpoints[1].subnets = vec!["subnet-z".into()],
                "$.networks[0].vpcs[0].endpoints[1].subnets",
                "subnet `subnet-z`",
            ),
            (
                |n| n.vpcs[0].endpoints[0].id = "../x".into(),
                "$.networks[0].vpcs[0].endpoints[0].id",
                "contains `/`",
            ),
        ];
        for (mutate, path, words) in cases {
            let err = crate::files::to_files(&with_network(mutate)).unwrap_err();
            assert_eq!(err.json_path.as_deref(), Some(path), "{err}");
            assert!(err.to_string().contains(words), "{err}");
        }
        let mut twice = with_network(|_| {});
        twice.networks.push(twice.networks[0].clone());
        let err = crate::files::to_files(&twice).unwrap_err();
        assert_eq!(err.json_path.as_deref(), Some("$.networks[1].region"));
        assert!(err.to_string().contains("listed twice"), "{err}");
        // A policy file that state.json does not announce is refused on reading.
        let d = temp("network-extra");
        write_dir(&with_network(|_| {}), &d).unwrap();
        fs::write(
            d.join("accounts/222233334444/regions/eu-west-1/vpc-endpoints/vpce-ssm.json"),
            "{}",
        )
        .unwrap();
        let err = read_dir(&d).unwrap_err();
        assert!(err.file.ends_with("vpce-ssm.json"), "{err}");
        let _ = fs::remove_dir_all(&d);
    }
}
