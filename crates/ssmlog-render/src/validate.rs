//! Parse and validate a config: every field checked, every problem reported at once, each
//! naming the field, the value given and the fix, with line and column.

use std::collections::BTreeSet;

use ssmlog_state::RoleKind;
use toml::de::DeTable;
use toml::Spanned;

use crate::config::{
    raw, AccountSource, BucketConfig, CloudWatchConfig, Config, GuardrailsConfig, InstanceRole,
    KeyConfig, KeyMode, KeysConfig, Member, ObjectLockConfig, Retention, SessionConfig,
};
use crate::error::{line_column, path_at, span_of, ConfigError, ConfigErrors};
use crate::regions;
use crate::Profile;

/// The default name of the Default Host Management Configuration role, with its path.
pub const DEFAULT_HOST_MANAGEMENT_ROLE: &str =
    "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole";
/// The default inline policy name.
pub const DEFAULT_POLICY_NAME: &str = "SSMLogSessionLogging";
/// The default prefix scheme.
pub const DEFAULT_KEY_PREFIX: &str = "{account}/{region}";
const STORAGE_CLASSES: &[&str] = &[
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
];

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    doc: Option<Spanned<DeTable<'a>>>,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn err(&mut self, field: &str, value: Option<&str>, message: String, help: impl Into<String>) {
        let (line, column) = match self.doc.as_ref().and_then(|d| span_of(d, field)) {
            Some(span) => {
                let (l, c) = line_column(self.text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            field: field.to_string(),
            value: value.map(str::to_string),
            message,
            help: help.into(),
            line,
            column,
        });
    }

    fn account_id(&mut self, field: &str, v: &str) -> bool {
        if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
            return true;
        }
        self.err(
            field,
            Some(v),
            format!("`{v}` is not an AWS account id"),
            "an account id is exactly 12 digits, written in quotes, e.g. \"222233334444\"",
        );
        false
    }

    fn region(&mut self, field: &str, v: &str) -> bool {
        if regions::is_known(v) {
            return true;
        }
        let help = match regions::suggest(v) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "use a region code, one of: {}",
                regions::KNOWN_REGIONS.join(", ")
            ),
        };
        self.err(
            field,
            Some(v),
            format!("`{v}` is not a known AWS region"),
            help,
        );
        false
    }

    fn days(&mut self, field: &str, v: Option<i64>) -> Option<u32> {
        let v = v?;
        if (1..=36_500).contains(&v) {
            return u32::try_from(v).ok();
        }
        self.err(
            field,
            Some(&v.to_string()),
            format!("{v} days is out of range"),
            "use a whole number of days from 1 to 36500, or leave the field out",
        );
        None
    }

    fn minutes(&mut self, field: &str, v: i64, max: i64) -> u32 {
        if (1..=max).contains(&v) {
            return u32::try_from(v).unwrap_or(1);
        }
        self.err(
            field,
            Some(&v.to_string()),
            format!("{v} minutes is out of range"),
            format!("Session Manager accepts 1 to {max} minutes"),
        );
        1
    }

    fn principal_arn(&mut self, field: &str, v: &str, allow_wildcards: bool) -> bool {
        let ok = (|| {
            let rest = v.strip_prefix("arn:aws:iam::")?;
            let (account, resource) = rest.split_once(':')?;
            let account_ok = (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
                || (allow_wildcards && account == "*");
            let resource_ok = resource == "root"
                || ["role/", "user/"].iter().any(|p| {
                    resource.strip_prefix(p).is_some_and(|n| {
                        !n.is_empty()
                            && n.chars().all(|c| {
                                c.is_ascii_alphanumeric()
                                    || "+=,.@_-/".contains(c)
                                    || (allow_wildcards && (c == '*' || c == '?'))
                            })
                    })
                });
            (account_ok && resource_ok).then_some(())
        })()
        .is_some();
        if !ok {
            let help = if allow_wildcards {
                "write an IAM principal ARN pattern such as \"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*\" (the account may be `*`, names may use `*` and `?`)"
            } else {
                "write a full IAM principal ARN without wildcards, e.g. \"arn:aws:iam::111122223333:role/KeyAdministrator\""
            };
            self.err(
                field,
                Some(v),
                format!("`{v}` is not an IAM principal ARN"),
                help,
            );
        }
        ok
    }
}

/// Parses and validates the config in `text`. `file` names it in errors.
pub fn parse_config(file: &str, text: &str) -> Result<Config, ConfigErrors> {
    let mut cx = Ctx {
        file,
        text,
        doc: None,
        errors: Vec::new(),
    };
    match DeTable::parse(text) {
        Ok(doc) => cx.doc = Some(doc),
        Err(e) => {
            let (line, column) = match e.span() {
                Some(s) => {
                    let (l, c) = line_column(text, s.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            return Err(ConfigErrors(vec![ConfigError {
                file: file.to_string(),
                field: String::new(),
                value: None,
                message: format!("invalid TOML: {}", e.message().trim_end_matches('\n')),
                help: "fix the TOML syntax; `ssmlog init` writes a complete example".to_string(),
                line,
                column,
            }]));
        }
    }
    let raw: raw::Config = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(ConfigErrors(vec![serde_error(&cx, &e)])),
    };
    let config = build(&mut cx, raw);
    if cx.errors.is_empty() {
        Ok(config)
    } else {
        cx.errors
            .sort_by_key(|e| (e.line.unwrap_or(usize::MAX), e.column.unwrap_or(0)));
        Err(ConfigErrors(cx.errors))
    }
}

/// Turns serde's "unknown field"/"missing field"/"invalid type" into a field and a fix.
fn serde_error(cx: &Ctx<'_>, e: &toml::de::Error) -> ConfigError {
    let msg = e.message().trim_end_matches('\n').to_string();
    let span = e.span();
    let mut field = match (&cx.doc, &span) {
        (Some(doc), Some(s)) => path_at(doc, s.start),
        _ => String::new(),
    };
    let between = |s: &str| s.split('`').nth(1).map(str::to_string);
    let help = if msg.starts_with("unknown field") {
        let expected = msg
            .split_once("expected ")
            .map(|(_, rest)| rest.to_string());
        match expected {
            Some(list) => format!("check the spelling; this table accepts {list}"),
            None => "remove it, or check the spelling".to_string(),
        }
    } else if msg.starts_with("missing field") {
        // A field missing from the top level comes with an empty span at the start of the
        // file (or one over all of it), which may lie in the first table: that table is not
        // where the field belongs.
        let top_level = span
            .as_ref()
            .is_some_and(|s| s.start == 0 && (s.end == 0 || s.end >= cx.text.trim_end().len()));
        if let Some(name) = between(&msg) {
            if top_level {
                field = name.clone();
                format!("add a `[{name}]` table; `ssmlog init` writes a complete example")
            } else {
                field = if field.is_empty() {
                    name.clone()
                } else {
                    format!("{field}.{name}")
                };
                format!("add `{name} = …` here; `ssmlog init` writes a complete example")
            }
        } else {
            "add the missing field; `ssmlog init` writes a complete example".to_string()
        }
    } else if msg.contains("expected a string") {
        "write the value in quotes, e.g. \"222233334444\"".to_string()
    } else if msg.contains("expected a boolean") {
        "write `true` or `false`".to_string()
    } else if msg.contains("expected i64") || msg.contains("expected an integer") {
        "write a whole number without quotes".to_string()
    } else if msg.contains("expected a sequence") {
        "write a list in brackets, e.g. [\"eu-west-1\"]".to_string()
    } else {
        "see `ssmlog init` for the expected shape".to_string()
    };
    let (line, column) = match span {
        Some(s) => {
            let (l, c) = line_column(cx.text, s.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    ConfigError {
        file: cx.file.to_string(),
        field,
        value: None,
        message: msg,
        help,
        line,
        column,
    }
}

fn build(cx: &mut Ctx<'_>, raw: raw::Config) -> Config {
    // organization
    let org = raw.organization.id;
    let org_ok = org.strip_prefix("o-").is_some_and(|r| {
        (10..=32).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if !org_ok {
        cx.err(
            "organization.id",
            Some(&org),
            format!("`{org}` is not an organization id"),
            "an organization id is `o-` and 10 to 32 lowercase letters or digits, e.g. \"o-a1b2c3d4e5\" (`aws organizations describe-organization`)",
        );
    }

    // log archive
    let la = raw.log_archive;
    cx.account_id("log_archive.account_id", &la.account_id);
    cx.region("log_archive.region", &la.region);

    let mut raw_bucket = raw.bucket;
    let bucket_admins = raw_bucket.administrators.take();
    let mut bucket = bucket(cx, raw_bucket, &la.region);
    let keys = keys(cx, raw.keys, &la.account_id, &bucket.region);
    bucket.administrators = match bucket_admins {
        Some(list) => {
            for (i, a) in list.iter().enumerate() {
                cx.principal_arn(&format!("bucket.administrators[{i}]"), a, false);
            }
            list
        }
        None => {
            let all: BTreeSet<String> = std::iter::once(&keys.bucket)
                .chain(keys.session.as_ref())
                .flat_map(|k| k.administrators.iter().cloned())
                .collect();
            all.into_iter().collect()
        }
    };

    // accounts
    let source = match raw.accounts.source.as_deref() {
        None | Some("list") => AccountSource::List,
        Some("organization") => AccountSource::Organization,
        Some(other) => {
            cx.err(
                "accounts.source",
                Some(other),
                format!("`{other}` is not an account source"),
                "use \"list\" (only the listed members) or \"organization\" (discover every account)",
            );
            AccountSource::List
        }
    };
    let mut excluded = BTreeSet::new();
    for (i, id) in raw.accounts.exclude.iter().enumerate() {
        if cx.account_id(&format!("accounts.exclude[{i}]"), id) {
            excluded.insert(id.clone());
        }
    }
    let mut seen = BTreeSet::new();
    let mut accounts = Vec::new();
    let mut parents: Vec<(String, Option<String>)> =
        vec![(la.account_id.clone(), la.parent.clone())];
    for (i, m) in raw.accounts.members.into_iter().enumerate() {
        let field = format!("accounts.members[{i}].id");
        if !cx.account_id(&field, &m.id) {
            continue;
        }
        if !seen.insert(m.id.clone()) {
            cx.err(
                &field,
                Some(&m.id),
                format!("account `{}` is listed twice", m.id),
                "list each account once",
            );
            continue;
        }
        if let Some(name) = &m.name {
            if name.is_empty() || name.len() > 50 {
                cx.err(
                    &format!("accounts.members[{i}].name"),
                    Some(name),
                    "an account name must be 1 to 50 characters".to_string(),
                    "shorten the name, or leave it out",
                );
            }
        }
        if m.id != la.account_id {
            parents.push((m.id.clone(), m.parent.clone()));
        }
        if !excluded.contains(&m.id) {
            accounts.push(Member {
                id: m.id,
                name: m.name,
            });
        }
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    if source == AccountSource::List && accounts.is_empty() {
        cx.err(
            "accounts.members",
            None,
            "no member account to configure".to_string(),
            "list at least one account in `members` (and not in `exclude`), or set source = \"organization\"",
        );
    }

    // regions
    let mut excluded_regions = BTreeSet::new();
    for (i, r) in raw.regions.exclude.iter().enumerate() {
        if cx.region(&format!("regions.exclude[{i}]"), r) {
            excluded_regions.insert(r.clone());
        }
    }
    let mut region_set = BTreeSet::new();
    for (i, r) in raw.regions.enabled.iter().enumerate() {
        let field = format!("regions.enabled[{i}]");
        if cx.region(&field, r) && !region_set.insert(r.clone()) {
            cx.err(
                &field,
                Some(r),
                format!("region `{r}` is listed twice"),
                "list each region once",
            );
        }
    }
    let regions: Vec<String> = region_set.difference(&excluded_regions).cloned().collect();
    if regions.is_empty() {
        cx.err(
            "regions.enabled",
            None,
            "no region to configure".to_string(),
            "list the regions where sessions run, e.g. enabled = [\"eu-west-1\"], and not all of them in `exclude`",
        );
    }

    let (instance_roles, policy_name) = roles(cx, raw.instance_roles);
    let session = session(cx, raw.session, keys.mode);
    let tree = tree(
        cx,
        raw.organization.root_id,
        raw.organization.units,
        parents,
    );
    let guardrails = raw.guardrails.map(|g| guardrails(cx, g, tree.as_ref()));
    let mut readers = Vec::new();
    for (i, r) in raw
        .readers
        .map(|r| r.roles)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if cx.principal_arn(&format!("readers.roles[{i}]"), &r, true) {
            readers.push(r);
        }
    }
    readers.sort();
    readers.dedup();
    let network = raw.network.map(|n| {
        let mut expected = Vec::new();
        for (i, a) in n.expected.into_iter().enumerate() {
            let field = format!("network.expected[{i}]");
            if a == "*" {
                expected.push(a);
            } else if cx.account_id(&field, &a) {
                // Discovered accounts are not known offline.
                if source != AccountSource::List || accounts.iter().any(|m| m.id == a) {
                    expected.push(a);
                } else {
                    cx.err(
                        &field,
                        Some(&a),
                        format!("account `{a}` is not a member account of this config"),
                        "list a member account (`accounts.members`), or `*` for every member",
                    );
                }
            }
        }
        expected.sort();
        expected.dedup();
        crate::config::NetworkConfig {
            expected,
            create_endpoints: n.create_endpoints,
        }
    });

    Config {
        organization_id: org,
        log_archive_account: la.account_id,
        home_region: la.region,
        bucket,
        keys,
        account_source: source,
        accounts,
        excluded_accounts: excluded.into_iter().collect(),
        regions,
        excluded_regions: excluded_regions.into_iter().collect(),
        instance_roles,
        policy_name,
        session,
        guardrails,
        readers,
        tree,
        network,
    }
}

/// The organization's tree from `organization.root_id`, `organization.units` and the
/// `parent` of each account (the root when left out); `None` without `root_id`.
fn tree(
    cx: &mut Ctx<'_>,
    root: Option<String>,
    units: Vec<raw::Unit>,
    parents: Vec<(String, Option<String>)>,
) -> Option<ssmlog_state::OrgTree> {
    let Some(root) = root else {
        if !units.is_empty() || parents.iter().any(|(_, p)| p.is_some()) {
            cx.err(
                "organization.root_id",
                None,
                "OUs and account parents need the organization's root id".to_string(),
                "add root_id = \"r-…\" (`aws organizations list-roots`)",
            );
        }
        return None;
    };
    let units: Vec<ssmlog_state::OrgUnit> = units
        .into_iter()
        .map(|u| ssmlog_state::OrgUnit {
            id: u.id,
            name: u.name,
            parent: u.parent,
        })
        .collect();
    let mut accounts: Vec<ssmlog_state::OrgAccount> = parents
        .into_iter()
        .map(|(id, parent)| ssmlog_state::OrgAccount {
            id,
            parent: parent.unwrap_or_else(|| root.clone()),
        })
        .collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    let mut tree = ssmlog_state::OrgTree {
        root,
        units,
        accounts,
    };
    if let Some((at, message)) = tree.problem() {
        let field = if at == "root" {
            "organization.root_id".to_string()
        } else if let Some(rest) = at.strip_prefix("units") {
            format!("organization.units{rest}")
        } else {
            "accounts.members".to_string()
        };
        cx.err(&field, None, message, "give every OU and account a parent that is the root or a listed OU (`organization.units`)");
        return None;
    }
    tree.units.sort_by(|a, b| a.id.cmp(&b.id));
    Some(tree)
}

/// `[guardrails]`: targets are the root, OUs or accounts (an OU needs the tree, or the
/// proof cannot place it); the deploy roles must not be empty (nobody could ever change the
/// preferences again); principals are ARN patterns; session documents are SSM names.
fn guardrails(
    cx: &mut Ctx<'_>,
    g: raw::Guardrails,
    tree: Option<&ssmlog_state::OrgTree>,
) -> GuardrailsConfig {
    if g.attach_to.is_empty() {
        cx.err(
            "guardrails.attach_to",
            None,
            "the guardrails attach nowhere".to_string(),
            "list the root (\"r-…\"), OUs (\"ou-…\") or account ids they attach to, e.g. attach_to = [\"r-ab12\"]",
        );
    }
    for (i, t) in g.attach_to.iter().enumerate() {
        let field = format!("guardrails.attach_to[{i}]");
        let account = t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit());
        let ok = account
            || ((t.starts_with("r-") || t.starts_with("ou-"))
                && ssmlog_state::layout::check_segment(t).is_ok());
        if !ok {
            cx.err(
                &field,
                Some(t),
                format!("`{t}` is neither a root, an OU nor an account id"),
                "use the root id (\"r-…\"), an OU id (\"ou-…\") or a 12-digit account id",
            );
        } else if t.starts_with("ou-")
            && !tree.is_some_and(|tr| tr.units.iter().any(|u| &u.id == t))
        {
            cx.err(
                &field,
                Some(t),
                format!("OU `{t}` is not in the organization's tree of the config"),
                "list it in `organization.units` (with `organization.root_id`) and give its accounts `parent`, so `check` can prove the guardrails on them",
            );
        } else if t.starts_with("r-") && tree.is_some_and(|tr| &tr.root != t) {
            cx.err(
                &field,
                Some(t),
                format!("`{t}` is not the root `organization.root_id` names"),
                "use the organization's root id",
            );
        }
    }
    if g.deploy_roles.is_empty() {
        cx.err(
            "guardrails.deploy_roles",
            None,
            "the guardrails need at least one deploy role".to_string(),
            "the SCP denies changing the preferences document to everyone else: list the role that deploys ssmlog in member accounts, e.g. deploy_roles = [\"arn:aws:iam::*:role/ssmlog-deploy\"]",
        );
    }
    for (list, name) in [
        (&g.deploy_roles, "deploy_roles"),
        (&g.port_forwarding, "port_forwarding"),
    ] {
        for (i, p) in list.iter().enumerate() {
            cx.principal_arn(&format!("guardrails.{name}[{i}]"), p, true);
        }
    }
    let mut documents = BTreeSet::new();
    for (i, d) in g.session_documents.iter().enumerate() {
        let ok = (3..=128).contains(&d.len())
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            && !d.starts_with("AWS-")
            && d != ssmlog_state::PREFERENCES_DOCUMENT;
        if ok {
            documents.insert(d.clone());
        } else {
            cx.err(
                &format!("guardrails.session_documents[{i}]"),
                Some(d),
                format!("`{d}` is not a Session document of the member accounts ssmlog can allow"),
                "name a Session document of your own (3-128 of A-Z a-z 0-9 _ - .), which must log like SSM-SessionManagerRunShell; SSM-SessionManagerRunShell is always allowed, and AWS-StartPortForwardingSession/AWS-StartSSHSession go through `port_forwarding`",
            );
        }
    }
    let sorted = |v: Vec<String>| {
        let mut v = v;
        v.sort();
        v.dedup();
        v
    };
    GuardrailsConfig {
        attach_to: sorted(g.attach_to),
        deploy_roles: sorted(g.deploy_roles),
        port_forwarding: sorted(g.port_forwarding),
        session_documents: documents.into_iter().collect(),
    }
}

fn bucket(cx: &mut Ctx<'_>, b: raw::Bucket, home: &str) -> BucketConfig {
    if let Err((msg, help)) = check_bucket_name(&b.name) {
        cx.err("bucket.name", Some(&b.name), msg, help);
    }
    let region = match b.region {
        Some(r) => {
            cx.region("bucket.region", &r);
            r
        }
        None => home.to_string(),
    };
    let key_prefix = b
        .key_prefix
        .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_string());
    if let Err((msg, help)) = check_prefix(&key_prefix) {
        cx.err("bucket.key_prefix", Some(&key_prefix), msg, help);
    }

    let r = b.retention;
    let expire = cx.days("bucket.retention.expire_after_days", r.expire_after_days);
    let noncurrent = cx.days(
        "bucket.retention.noncurrent_expire_after_days",
        r.noncurrent_expire_after_days,
    );
    let transition_days = cx.days(
        "bucket.retention.transition_after_days",
        r.transition_after_days,
    );
    let transition = match (transition_days, r.transition_storage_class) {
        (Some(d), Some(class)) => {
            if !STORAGE_CLASSES.contains(&class.as_str()) {
                cx.err(
                    "bucket.retention.transition_storage_class",
                    Some(&class),
                    format!("`{class}` is not a storage class logs can move to"),
                    format!("use one of {}", STORAGE_CLASSES.join(", ")),
                );
            } else if (class == "STANDARD_IA" || class == "ONEZONE_IA") && d < 30 {
                cx.err(
                    "bucket.retention.transition_after_days",
                    Some(&d.to_string()),
                    format!("S3 moves objects to {class} only after at least 30 days"),
                    "set transition_after_days to 30 or more",
                );
            }
            Some((d, class))
        }
        (Some(d), None) => {
            cx.err(
                "bucket.retention",
                Some(&d.to_string()),
                "transition_after_days is set but transition_storage_class is not".to_string(),
                "add transition_storage_class = \"GLACIER_IR\" (or another class), or remove transition_after_days",
            );
            None
        }
        (None, Some(class)) => {
            if r.transition_after_days.is_none() {
                cx.err(
                    "bucket.retention.transition_storage_class",
                    Some(&class),
                    "transition_storage_class is set but transition_after_days is not".to_string(),
                    "add transition_after_days = 90 (or another number of days), or remove transition_storage_class",
                );
            }
            None
        }
        (None, None) => None,
    };
    if let (Some(e), Some((t, _))) = (expire, &transition) {
        if e <= *t {
            cx.err(
                "bucket.retention.expire_after_days",
                Some(&e.to_string()),
                format!("logs would expire after {e} days, before or when they move at {t} days"),
                "make expire_after_days larger than transition_after_days, or drop the transition",
            );
        }
    }

    let object_lock = b.object_lock.and_then(|ol| {
        let mode_ok = ol.mode == "GOVERNANCE" || ol.mode == "COMPLIANCE";
        if !mode_ok {
            cx.err(
                "bucket.object_lock.mode",
                Some(&ol.mode),
                format!("`{}` is not an Object Lock mode", ol.mode),
                "use \"GOVERNANCE\" (privileged users can shorten retention) or \"COMPLIANCE\" (nobody can)",
            );
        }
        let days = cx.days("bucket.object_lock.days", Some(ol.days));
        match (mode_ok, days) {
            (true, Some(days)) => Some(ObjectLockConfig { mode: ol.mode, days }),
            _ => None,
        }
    });

    BucketConfig {
        name: b.name,
        region,
        key_prefix,
        retention: Retention {
            expire_after_days: expire,
            transition,
            noncurrent_expire_after_days: noncurrent,
        },
        object_lock,
        administrators: Vec::new(),
        exempt_source_arns: exempt_source_arns(cx, b.exempt_source_arns),
    }
}

/// `bucket.exempt_source_arns`: full ARNs of AWS resources (a trail), no wildcards, since an
/// exemption from the upload Denies must name exactly who writes.
fn exempt_source_arns(cx: &mut Ctx<'_>, mut arns: Vec<String>) -> Vec<String> {
    for (i, a) in arns.iter().enumerate() {
        let parts: Vec<&str> = a.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts.first() == Some(&"arn")
            && parts.get(2).is_some_and(|s| !s.is_empty())
            && parts.get(5).is_some_and(|s| !s.is_empty())
            && !a.contains('*')
            && !a.contains('?');
        if !ok {
            cx.err(
                &format!("bucket.exempt_source_arns[{i}]"),
                Some(a),
                format!("`{a}` is not the ARN of an AWS resource"),
                "name the resource that writes, e.g. \"arn:aws:cloudtrail:eu-west-1:111122223333:trail/organization-trail\" (no wildcards)",
            );
        }
    }
    arns.sort();
    arns.dedup();
    arns
}

/// What a profile needs beyond a valid config: the hardened profile denies bucket and key
/// administration to everyone but the administrators, so it refuses an empty list (a key
/// nobody may administer cannot be recovered), and it gives every region its own session
/// key, so a configured session key must be multi-Region when sessions run elsewhere.
/// `file` names the config in errors; they carry no line, being about the config as a whole.
pub fn check_profile(file: &str, cfg: &Config, profile: Profile) -> Result<(), ConfigErrors> {
    if profile != Profile::Hardened {
        return Ok(());
    }
    let mut errors = Vec::new();
    let mut err = |field: &str, value: Option<&str>, message: String, help: &str| {
        errors.push(ConfigError {
            file: file.to_string(),
            field: field.to_string(),
            value: value.map(str::to_string),
            message,
            help: help.to_string(),
            line: None,
            column: None,
        });
    };
    if cfg.bucket.administrators.is_empty() {
        err(
            "bucket.administrators",
            None,
            "the hardened profile needs at least one bucket administrator".to_string(),
            "the bucket policy denies changing the bucket and deleting logs to everyone else: list the role that administers the log archive (the one that deploys ssmlog), e.g. administrators = [\"arn:aws:iam::111122223333:role/LogArchiveAdmin\"], or list key administrators, which are the default",
        );
    }
    let keys = std::iter::once(("keys.bucket", &cfg.keys.bucket))
        .chain(cfg.keys.session.as_ref().map(|s| ("keys.session", s)));
    for (field, k) in keys {
        if k.administrators.is_empty() {
            err(
                &format!("{field}.administrators"),
                None,
                "the hardened profile needs at least one administrator for each key".to_string(),
                "the key policy denies key administration to everyone else, and KMS cannot recover a key nobody may administer: list the role that administers keys (and deploys ssmlog), e.g. administrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]",
            );
        }
    }
    let session = cfg.keys.session.as_ref().unwrap_or(&cfg.keys.bucket);
    if let Some(arn) = &session.arn {
        let region = arn.split(':').nth(3).unwrap_or_default();
        let id = arn.rsplit('/').next().unwrap_or_default();
        let elsewhere: Vec<&str> = cfg
            .regions
            .iter()
            .map(String::as_str)
            .filter(|r| *r != region)
            .collect();
        if !id.starts_with("mrk-") && !elsewhere.is_empty() {
            let field = if cfg.keys.session.is_some() {
                "keys.session.arn"
            } else {
                "keys.bucket.arn"
            };
            err(
                field,
                Some(arn),
                format!(
                    "the session key is a single-Region key of {region}, but sessions also run in {}: KMS keys are regional",
                    elsewhere.join(", ")
                ),
                "name a multi-Region key (`mrk-…`) replicated to every enabled region, or leave `arn` out and ssmlog creates one",
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(errors))
    }
}

/// S3 general purpose bucket naming rules, plus no dots (they break TLS certificate
/// matching on virtual-hosted requests, and ssmlog requires TLS).
pub(crate) fn check_bucket_name(n: &str) -> Result<(), (String, String)> {
    let fail = |m: String, h: &str| Err((m, h.to_string()));
    if !(3..=63).contains(&n.len()) {
        return fail(
            format!("`{n}` is {} characters long", n.len()),
            "a bucket name is 3 to 63 characters",
        );
    }
    if let Some(c) = n
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let h = if c == '.' {
            "dots break TLS for virtual-hosted bucket addresses; use hyphens instead"
        } else {
            "use only lowercase letters, digits and hyphens"
        };
        return fail(format!("`{n}` contains `{c}`"), h);
    }
    let first_last_ok = n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_last_ok {
        return fail(
            format!("`{n}` does not start and end with a letter or digit"),
            "remove the leading or trailing hyphen",
        );
    }
    for p in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if n.starts_with(p) {
            return fail(
                format!("`{n}` starts with `{p}`, which S3 reserves"),
                "choose another name",
            );
        }
    }
    for s in ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"] {
        if n.ends_with(s) {
            return fail(
                format!("`{n}` ends with `{s}`, which S3 reserves"),
                "choose another name",
            );
        }
    }
    Ok(())
}

/// The prefix scheme: `/`-separated segments of safe characters, `{account}` as a whole
/// segment before any other variable, `{region}` optional.
pub(crate) fn check_prefix(p: &str) -> Result<(), (String, String)> {
    let fail = |m: String, h: &str| Err((m, h.to_string()));
    if p.starts_with('/') || p.ends_with('/') || p.contains("//") {
        return fail(
            format!("`{p}` has an empty path segment"),
            "write segments separated by single slashes, with none at the start or end, e.g. \"{account}/{region}\"",
        );
    }
    if p.len() > 200 {
        return fail(
            format!("the prefix is {} characters long", p.len()),
            "keep it under 200 characters",
        );
    }
    let mut seen_account = false;
    for seg in p.split('/') {
        let mut rest = seg;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                return fail(
                    format!("`{p}` has an unclosed `{{`"),
                    "close the variable: {account} or {region}",
                );
            };
            let var = &rest[open + 1..open + close];
            match var {
                "account" => {
                    if seg != "{account}" {
                        return fail(
                            format!("`{{account}}` must be a whole path segment in `{p}`"),
                            "put slashes around it, e.g. \"logs/{account}/{region}\"",
                        );
                    }
                    seen_account = true;
                }
                "region" => {
                    if !seen_account {
                        return fail(
                            format!("`{{region}}` comes before `{{account}}` in `{p}`"),
                            "put {account} first, e.g. \"{account}/{region}\": the bucket policy lets each account write only under the prefix up to its account id",
                        );
                    }
                }
                other => {
                    let hint = if regions::distance(other, "account") <= 2 {
                        "did you mean {account}?"
                    } else if regions::distance(other, "region") <= 2 {
                        "did you mean {region}?"
                    } else {
                        "the variables are {account} and {region}"
                    };
                    return fail(format!("unknown variable `{{{other}}}` in `{p}`"), hint);
                }
            }
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            return fail(
                format!("`{p}` has a `}}` without `{{`"),
                "variables are written {account} and {region}",
            );
        }
        let literal: String = seg.replace("{account}", "").replace("{region}", "");
        if let Some(c) = literal
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.!*'()".contains(*c)))
        {
            return fail(
                format!("`{p}` contains `{c}`"),
                "use letters, digits and - _ . ! * ' ( ) in the literal parts",
            );
        }
    }
    if !seen_account {
        return fail(
            format!("`{p}` does not contain `{{account}}`"),
            "add {account} as a path segment, e.g. \"{account}/{region}\": the hardened bucket policy lets each account write only under its own prefix",
        );
    }
    Ok(())
}

fn keys(cx: &mut Ctx<'_>, k: raw::Keys, account: &str, bucket_region: &str) -> KeysConfig {
    let mode = match k.mode.as_deref() {
        None | Some("two-keys") => KeyMode::TwoKeys,
        Some("single-key") => KeyMode::SingleKey,
        Some(other) => {
            cx.err(
                "keys.mode",
                Some(other),
                format!("`{other}` is not a key mode"),
                "use \"two-keys\" (Key 1 for the bucket, Key 2 for session data) or \"single-key\"",
            );
            KeyMode::TwoKeys
        }
    };
    let bucket = match k.bucket {
        Some(b) => key(cx, "keys.bucket", b, account, Some(bucket_region)),
        None => {
            cx.err(
                "keys.bucket",
                None,
                "the bucket key (Key 1) is not configured".to_string(),
                "add a [keys.bucket] table, e.g. alias = \"alias/ssmlog-session-logs\"",
            );
            KeyConfig {
                arn: None,
                alias: None,
                administrators: Vec::new(),
            }
        }
    };
    let session = match (mode, k.session) {
        (KeyMode::TwoKeys, Some(s)) => Some(key(cx, "keys.session", s, account, None)),
        (KeyMode::TwoKeys, None) => {
            cx.err(
                "keys.session",
                None,
                "mode is \"two-keys\" but the session key (Key 2) is not configured".to_string(),
                "add a [keys.session] table, or set mode = \"single-key\"",
            );
            None
        }
        (KeyMode::SingleKey, Some(_)) => {
            cx.err(
                "keys.session",
                None,
                "mode is \"single-key\" but a session key is configured".to_string(),
                "remove [keys.session], or set mode = \"two-keys\"",
            );
            None
        }
        (KeyMode::SingleKey, None) => None,
    };
    if let (Some(a), Some(s)) = (
        &bucket.alias,
        session.as_ref().and_then(|s| s.alias.as_ref()),
    ) {
        if a == s {
            cx.err(
                "keys.session.alias",
                Some(s),
                format!("`{s}` is also the bucket key's alias"),
                "give each key its own alias",
            );
        }
    }
    KeysConfig {
        mode,
        bucket,
        session,
    }
}

fn key(
    cx: &mut Ctx<'_>,
    field: &str,
    k: raw::Key,
    account: &str,
    region: Option<&str>,
) -> KeyConfig {
    if let Some(arn) = &k.arn {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let (arn_region, arn_account, res) = match parts.as_slice() {
            ["arn", "aws", "kms", r, a, res] => (*r, *a, *res),
            _ => ("", "", ""),
        };
        let id = res.strip_prefix("key/").unwrap_or("");
        let id_ok = is_uuid(id)
            || id
                .strip_prefix("mrk-")
                .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let f = format!("{field}.arn");
        if !(regions::is_known(arn_region) && id_ok && arn_account.len() == 12) {
            cx.err(
                &f,
                Some(arn),
                format!("`{arn}` is not a KMS key ARN"),
                "write the key ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (not an alias ARN), or leave `arn` out and ssmlog creates the key",
            );
        } else if arn_account != account {
            cx.err(
                &f,
                Some(arn),
                format!(
                    "the key is in account {arn_account}, not in the log-archive account {account}"
                ),
                "use a key of the log-archive account, or leave `arn` out and ssmlog creates one",
            );
        } else if let Some(want) = region.filter(|w| *w != arn_region) {
            cx.err(
                &f,
                Some(arn),
                format!("the bucket key is in {arn_region} but the bucket is in {want}"),
                "S3 default encryption needs a key in the bucket's region: use a key from that region",
            );
        }
    }
    if let Some(alias) = &k.alias {
        let name = alias.strip_prefix("alias/").unwrap_or("");
        let ok = !name.is_empty()
            && alias.len() <= 256
            && !name.starts_with("aws/")
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c));
        if !ok {
            cx.err(
                &format!("{field}.alias"),
                Some(alias),
                format!("`{alias}` is not a usable key alias"),
                "write `alias/` and a name of letters, digits, / _ -, not starting with `aws/`, e.g. \"alias/ssmlog-session-logs\"",
            );
        }
    }
    for (i, a) in k.administrators.iter().enumerate() {
        cx.principal_arn(&format!("{field}.administrators[{i}]"), a, false);
    }
    KeyConfig {
        arn: k.arn,
        alias: k.alias,
        administrators: k.administrators,
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn role_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Splits `service-role/Name` into (`/service-role/`, `Name`).
fn split_role(s: &str) -> Option<(String, String)> {
    let s = s.trim_start_matches('/');
    let (path, name) = match s.rsplit_once('/') {
        Some((p, n)) => (format!("/{p}/"), n),
        None => ("/".to_string(), s),
    };
    let path_ok = path.len() <= 512
        && path
            .trim_matches('/')
            .split('/')
            .all(|seg| (seg.is_empty() && path == "/") || role_name_ok(seg));
    (role_name_ok(name) && path_ok).then(|| (path, name.to_string()))
}

fn roles(cx: &mut Ctx<'_>, r: raw::InstanceRoles) -> (Vec<InstanceRole>, String) {
    let mut out: Vec<InstanceRole> = Vec::new();
    let mut add = |cx: &mut Ctx<'_>, field: &str, value: &str, kind: RoleKind| {
        match split_role(value) {
        Some((path, name)) => {
            if out.iter().any(|o| o.name == name) {
                cx.err(field, Some(value), format!("role `{name}` is configured twice"), "name each role once");
            } else {
                out.push(InstanceRole { name, path, kind });
            }
        }
        None => cx.err(
            field,
            Some(value),
            format!("`{value}` is not an IAM role name"),
            "a role name is 1 to 64 letters, digits and + = , . @ _ -, optionally after a path: \"service-role/MyRole\"",
        ),
    }
    };
    for (i, name) in r.existing.iter().enumerate() {
        add(
            cx,
            &format!("instance_roles.existing[{i}]"),
            name,
            RoleKind::Existing,
        );
    }
    if r.default_host_management {
        let v = r
            .default_host_management_role
            .as_deref()
            .unwrap_or(DEFAULT_HOST_MANAGEMENT_ROLE);
        add(
            cx,
            "instance_roles.default_host_management_role",
            v,
            RoleKind::DefaultHostManagement,
        );
    } else if let Some(v) = &r.default_host_management_role {
        cx.err(
            "instance_roles.default_host_management_role",
            Some(v),
            "a Default Host Management role is named but default_host_management is false"
                .to_string(),
            "set default_host_management = true, or remove default_host_management_role",
        );
    }
    if let Some(v) = &r.create {
        add(cx, "instance_roles.create", v, RoleKind::Created);
    }
    if out.is_empty()
        && cx
            .errors
            .iter()
            .all(|e| !e.field.starts_with("instance_roles"))
    {
        cx.err(
            "instance_roles",
            None,
            "no instance role gets the logging policy, so no agent can upload logs".to_string(),
            "list role names in `existing`, set default_host_management = true, or set create = \"SSMLogInstanceRole\"",
        );
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let policy_name = r
        .policy_name
        .unwrap_or_else(|| DEFAULT_POLICY_NAME.to_string());
    if !((1..=128).contains(&policy_name.len())
        && policy_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)))
    {
        cx.err(
            "instance_roles.policy_name",
            Some(&policy_name),
            format!("`{policy_name}` is not an IAM policy name"),
            "use 1 to 128 letters, digits and + = , . @ _ -",
        );
    }
    (out, policy_name)
}

fn session(cx: &mut Ctx<'_>, s: raw::Session, _mode: KeyMode) -> SessionConfig {
    let mut unset_inputs: Vec<String> = Vec::new();
    let mut unset = |set: bool, inputs: &[&str]| {
        if !set {
            unset_inputs.extend(inputs.iter().map(|i| (*i).to_string()));
        }
    };
    unset(s.idle_session_timeout.is_some(), &["idleSessionTimeout"]);
    unset(s.max_session_duration.is_some(), &["maxSessionDuration"]);
    unset(s.run_as.is_some(), &["runAsEnabled", "runAsDefaultUser"]);
    unset(s.shell_profile.is_some(), &["shellProfile"]);
    unset(
        s.cloudwatch.is_some(),
        &[
            "cloudWatchLogGroupName",
            "cloudWatchEncryptionEnabled",
            "cloudWatchStreamingEnabled",
        ],
    );
    let run_as = s.run_as.unwrap_or_default();
    let shell_profile = s.shell_profile.unwrap_or_default();
    let idle = cx.minutes(
        "session.idle_session_timeout",
        s.idle_session_timeout.unwrap_or(20),
        60,
    );
    let max = s
        .max_session_duration
        .map(|m| cx.minutes("session.max_session_duration", m, 1440));
    if s.starters.is_empty() {
        cx.err(
            "session.starters",
            None,
            "no principal may start encrypted sessions".to_string(),
            "list the principal ARN patterns of people who start sessions, e.g. starters = [\"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*\"]",
        );
    }
    for (i, p) in s.starters.iter().enumerate() {
        cx.principal_arn(&format!("session.starters[{i}]"), p, true);
    }
    let user = run_as.default_user;
    if run_as.enabled {
        let ok = (1..=32).contains(&user.len())
            && user
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && user
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c));
        if !ok {
            cx.err(
                "session.run_as.default_user",
                Some(&user),
                format!("`{user}` is not a usable OS user name"),
                "with run_as enabled, name an existing OS user: lowercase letters, digits, _ - ., at most 32 characters",
            );
        }
    } else if !user.is_empty() {
        cx.err(
            "session.run_as.default_user",
            Some(&user),
            "a run-as user is set but run_as.enabled is false".to_string(),
            "set run_as.enabled = true, or clear default_user",
        );
    }
    let cloudwatch = s.cloudwatch.map(|c| {
        let ok = (1..=512).contains(&c.log_group_name.len())
            && c.log_group_name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "._-/#".contains(ch));
        if !ok {
            cx.err(
                "session.cloudwatch.log_group_name",
                Some(&c.log_group_name),
                format!("`{}` is not a CloudWatch Logs group name", c.log_group_name),
                "use 1 to 512 letters, digits and . _ - / #, e.g. \"/ssmlog/sessions\"",
            );
        }
        CloudWatchConfig {
            log_group_name: c.log_group_name,
            encryption_enabled: c.encryption_enabled,
            streaming_enabled: c.streaming_enabled,
        }
    });
    SessionConfig {
        idle_session_timeout: idle,
        max_session_duration: max,
        starters: s.starters,
        run_as_enabled: run_as.enabled,
        run_as_default_user: user,
        shell_profile_linux: shell_profile.linux,
        shell_profile_windows: shell_profile.windows,
        cloudwatch,
        unset_inputs,
    }
}
