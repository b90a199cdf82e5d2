//! One test per config error message: each edits the example config in one place and
//! checks the field, the message, the fix and the position reported.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ssmlog_render::{check_profile, parse_config, ConfigError, Profile, EXAMPLE_CONFIG};

/// Applies `edits` (each `from` must occur exactly once) to the example config and returns
/// the single error reported.
fn only_error(edits: &[(&str, &str)]) -> ConfigError {
    let mut text = EXAMPLE_CONFIG.to_string();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "edit `{from}` must match exactly once"
        );
        text = text.replacen(from, to, 1);
    }
    let errs = parse_config("ssmlog.toml", &text)
        .expect_err("the edited config must be rejected")
        .0;
    assert_eq!(
        errs.len(),
        1,
        "expected one error, got:\n{}",
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    errs.into_iter().next().unwrap()
}

macro_rules! case {
    ($name:ident, [$(($from:expr, $to:expr)),+ $(,)?], $field:expr, $message:expr, $help:expr) => {
        #[test]
        fn $name() {
            let e = only_error(&[$(($from, $to)),+]);
            assert_eq!(e.field, $field, "{e}");
            assert!(e.message.contains($message), "message of {e}");
            assert!(e.help.contains($help), "help of {e}");
            assert!(e.line.is_some() && e.column.is_some(), "position of {e}");
            let shown = e.to_string();
            assert!(shown.starts_with("ssmlog.toml:"), "{shown}");
            if !$field.is_empty() {
                assert!(shown.contains(&format!("`{}`", $field)), "{shown}");
            }
            assert!(shown.contains("\n  help: "), "{shown}");
        }
    };
}

// TOML and shape, reported by the parser with a span.
case!(
    toml_syntax,
    [("[regions]", "[regions")],
    "",
    "invalid TOML",
    "fix the TOML syntax"
);
case!(
    unknown_field,
    [("idle_session_timeout = 20", "idle_sesion_timeout = 20")],
    "session.idle_sesion_timeout",
    "unknown field `idle_sesion_timeout`",
    "check the spelling"
);
case!(
    missing_field,
    [("name = \"central-session-logs-111122223333\"\n", "")],
    "bucket.name",
    "missing field `name`",
    "add `name = …`"
);

/// A whole table missing, in a file that starts with another table: the error is about the
/// top level, not the table the position happens to fall in.
#[test]
fn missing_table_is_reported_at_the_top_level() {
    let text = EXAMPLE_CONFIG
        .split_once("[organization]")
        .map(|(_, rest)| format!("[organization]{rest}"))
        .unwrap();
    let text = text.replacen(
        "[log_archive]\n",
        "[unused_placeholder_that_is_removed]\n",
        1,
    );
    let start = text.find("[unused_placeholder_that_is_removed]").unwrap();
    let end = start + text[start..].find("\n[").unwrap() + 1;
    let text = format!("{}{}", &text[..start], &text[end..]);
    let errs = parse_config("ssmlog.toml", &text).expect_err("rejected").0;
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert_eq!(e.field, "log_archive", "{e}");
    assert!(e.help.contains("add a `[log_archive]` table"), "{e}");
}

case!(
    account_id_as_integer,
    [("account_id = \"111122223333\"", "account_id = 111122223333")],
    "log_archive.account_id",
    "invalid type",
    "in quotes"
);
case!(
    boolean_as_string,
    [(
        "default_host_management = true",
        "default_host_management = \"yes\""
    )],
    "instance_roles.default_host_management",
    "invalid type",
    "`true` or `false`"
);
case!(
    number_as_string,
    [("idle_session_timeout = 20", "idle_session_timeout = \"20\"")],
    "session.idle_session_timeout",
    "invalid type",
    "whole number"
);

// organization and log archive
case!(
    organization_id,
    [("id = \"o-a1b2c3d4e5\"", "id = \"o-ABC\"")],
    "organization.id",
    "`o-ABC` is not an organization id",
    "10 to 32 lowercase"
);
case!(
    log_archive_account,
    [(
        "account_id = \"111122223333\"",
        "account_id = \"11112222333\""
    )],
    "log_archive.account_id",
    "not an AWS account id",
    "exactly 12 digits"
);
case!(
    region_with_suggestion,
    [(
        "region = \"eu-west-1\"\n\n[bucket]",
        "region = \"eu-wset-1\"\n\n[bucket]"
    )],
    "log_archive.region",
    "not a known AWS region",
    "did you mean `eu-west-1`?"
);
case!(
    region_without_suggestion,
    [(
        "region = \"eu-west-1\"\n\n[bucket]",
        "region = \"moon-base-1\"\n\n[bucket]"
    )],
    "log_archive.region",
    "not a known AWS region",
    "one of:"
);

// bucket
case!(
    bucket_name_length,
    [(
        "name = \"central-session-logs-111122223333\"",
        "name = \"ab\""
    )],
    "bucket.name",
    "2 characters long",
    "3 to 63"
);
case!(
    bucket_name_dots,
    [(
        "name = \"central-session-logs-111122223333\"",
        "name = \"central.logs\""
    )],
    "bucket.name",
    "contains `.`",
    "dots break TLS"
);
case!(
    bucket_name_uppercase,
    [(
        "name = \"central-session-logs-111122223333\"",
        "name = \"Central-Logs\""
    )],
    "bucket.name",
    "contains `C`",
    "lowercase letters"
);
case!(
    bucket_name_edges,
    [(
        "name = \"central-session-logs-111122223333\"",
        "name = \"central-logs-\""
    )],
    "bucket.name",
    "does not start and end",
    "hyphen"
);
case!(
    bucket_name_reserved_prefix,
    [(
        "name = \"central-session-logs-111122223333\"",
        "name = \"xn--logs\""
    )],
    "bucket.name",
    "starts with `xn--`",
    "another name"
);
case!(
    bucket_name_reserved_suffix,
    [(
        "name = \"central-session-logs-111122223333\"",
        "name = \"logs-s3alias\""
    )],
    "bucket.name",
    "ends with `-s3alias`",
    "another name"
);
case!(
    bucket_region,
    [("# region = \"eu-west-1\"", "region = \"eu-west-9\"")],
    "bucket.region",
    "not a known AWS region",
    "did you mean"
);
case!(
    prefix_empty_segment,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"/{account}/{region}\""
    )],
    "bucket.key_prefix",
    "empty path segment",
    "single slashes"
);
case!(
    prefix_too_long,
    [(
        "key_prefix = \"{account}/{region}\"",
        &format!("key_prefix = \"{}/{{account}}\"", "a".repeat(200))
    )],
    "bucket.key_prefix",
    "characters long",
    "under 200"
);
case!(
    prefix_unclosed,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"{account}/{region\""
    )],
    "bucket.key_prefix",
    "unclosed",
    "close the variable"
);
case!(
    prefix_account_not_segment,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"logs-{account}/{region}\""
    )],
    "bucket.key_prefix",
    "whole path segment",
    "slashes around it"
);
case!(
    prefix_region_first,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"{region}/{account}\""
    )],
    "bucket.key_prefix",
    "comes before `{account}`",
    "put {account} first"
);
case!(
    prefix_unknown_variable,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"{acount}/{region}\""
    )],
    "bucket.key_prefix",
    "unknown variable `{acount}`",
    "did you mean {account}?"
);
case!(
    prefix_stray_brace,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"{account}/region}\""
    )],
    "bucket.key_prefix",
    "without `{`",
    "variables are written"
);
case!(
    prefix_bad_character,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"{account}/logs%\""
    )],
    "bucket.key_prefix",
    "contains `%`",
    "literal parts"
);
case!(
    prefix_without_account,
    [(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"logs\""
    )],
    "bucket.key_prefix",
    "does not contain `{account}`",
    "own prefix"
);
case!(
    retention_days_range,
    [("expire_after_days = 400", "expire_after_days = 0")],
    "bucket.retention.expire_after_days",
    "0 days is out of range",
    "1 to 36500"
);
case!(
    storage_class,
    [(
        "transition_storage_class = \"GLACIER_IR\"",
        "transition_storage_class = \"COLD\""
    )],
    "bucket.retention.transition_storage_class",
    "not a storage class",
    "GLACIER_IR"
);
case!(
    infrequent_access_minimum,
    [
        (
            "transition_storage_class = \"GLACIER_IR\"",
            "transition_storage_class = \"STANDARD_IA\""
        ),
        ("transition_after_days = 90", "transition_after_days = 10")
    ],
    "bucket.retention.transition_after_days",
    "at least 30 days",
    "30 or more"
);
case!(
    transition_days_without_class,
    [("transition_storage_class = \"GLACIER_IR\"\n", "")],
    "bucket.retention",
    "transition_storage_class is not",
    "add transition_storage_class"
);
case!(
    transition_class_without_days,
    [("transition_after_days = 90\n", "")],
    "bucket.retention.transition_storage_class",
    "transition_after_days is not",
    "add transition_after_days"
);
case!(
    expire_before_transition,
    [("expire_after_days = 400", "expire_after_days = 60")],
    "bucket.retention.expire_after_days",
    "before or when they move",
    "larger than transition_after_days"
);
case!(
    object_lock_mode,
    [
        (
            "# [bucket.object_lock]\n# mode = \"GOVERNANCE\"",
            "[bucket.object_lock]\nmode = \"LEGAL\""
        ),
        ("# days = 365", "days = 365")
    ],
    "bucket.object_lock.mode",
    "not an Object Lock mode",
    "COMPLIANCE"
);
case!(
    object_lock_days,
    [
        (
            "# [bucket.object_lock]\n# mode = \"GOVERNANCE\"",
            "[bucket.object_lock]\nmode = \"GOVERNANCE\""
        ),
        ("# days = 365", "days = 40000")
    ],
    "bucket.object_lock.days",
    "out of range",
    "1 to 36500"
);

// keys
case!(
    key_mode,
    [("mode = \"two-keys\"", "mode = \"three-keys\"")],
    "keys.mode",
    "not a key mode",
    "\"single-key\""
);
case!(bucket_key_missing, [("[keys.bucket]\nalias = \"alias/ssmlog-session-logs\"\n", ""), ("recover a key nobody may administer.\nadministrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]\n", "recover a key nobody may administer.\n")], "keys.bucket", "bucket key (Key 1) is not configured", "add a [keys.bucket] table");
case!(session_key_missing, [("[keys.session]\nalias = \"alias/ssmlog-session-data\"\nadministrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]\n", "")], "keys.session", "session key (Key 2) is not configured", "mode = \"single-key\"");
case!(
    session_key_in_single_mode,
    [("mode = \"two-keys\"", "mode = \"single-key\"")],
    "keys.session",
    "a session key is configured",
    "remove [keys.session]"
);
case!(
    duplicate_alias,
    [(
        "alias = \"alias/ssmlog-session-data\"",
        "alias = \"alias/ssmlog-session-logs\""
    )],
    "keys.session.alias",
    "also the bucket key's alias",
    "its own alias"
);
case!(
    key_arn_malformed,
    [(
        "# arn = \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
        "arn = \"arn:aws:kms:eu-west-1:111122223333:alias/logs\""
    )],
    "keys.bucket.arn",
    "not a KMS key ARN",
    "not an alias ARN"
);
case!(
    key_arn_other_account,
    [(
        "# arn = \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
        "arn = \"arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab\""
    )],
    "keys.bucket.arn",
    "not in the log-archive account",
    "a key of the log-archive account"
);
case!(
    key_arn_other_region,
    [(
        "# arn = \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
        "arn = \"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\""
    )],
    "keys.bucket.arn",
    "bucket is in eu-west-1",
    "bucket's region"
);
case!(
    key_alias,
    [(
        "alias = \"alias/ssmlog-session-logs\"",
        "alias = \"ssmlog-session-logs\""
    )],
    "keys.bucket.alias",
    "not a usable key alias",
    "`alias/`"
);
case!(
    key_administrator,
    [(
        "recover a key nobody may administer.\nadministrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]",
        "recover a key nobody may administer.\nadministrators = [\"arn:aws:iam::*:role/Admin\"]"
    )],
    "keys.bucket.administrators[0]",
    "not an IAM principal ARN",
    "without wildcards"
);

case!(
    bucket_administrator,
    [(
        "# administrators = [\"arn:aws:iam::111122223333:role/LogArchiveAdmin\"]",
        "administrators = [\"arn:aws:iam::111122223333:group/Admins\"]"
    )],
    "bucket.administrators[0]",
    "not an IAM principal ARN",
    "without wildcards"
);

// accounts and regions
case!(
    account_source,
    [("source = \"list\"", "source = \"everything\"")],
    "accounts.source",
    "not an account source",
    "\"organization\""
);
case!(
    member_id,
    [("{ id = \"333344445555\"", "{ id = \"3333-4444-5555\"")],
    "accounts.members[1].id",
    "not an AWS account id",
    "exactly 12 digits"
);
case!(
    member_twice,
    [("{ id = \"333344445555\"", "{ id = \"222233334444\"")],
    "accounts.members[1].id",
    "listed twice",
    "once"
);
case!(
    member_name,
    [("name = \"shared-services\"", "name = \"\"")],
    "accounts.members[2].name",
    "1 to 50 characters",
    "shorten"
);
case!(
    excluded_account_id,
    [(
        "exclude = []\n\n[regions]",
        "exclude = [\"12\"]\n\n[regions]"
    )],
    "accounts.exclude[0]",
    "not an AWS account id",
    "12 digits"
);
case!(
    no_member_left,
    [(
        "exclude = []\n\n[regions]",
        "exclude = [\"222233334444\", \"333344445555\", \"444455556666\"]\n\n[regions]"
    )],
    "accounts.members",
    "no member account",
    "source = \"organization\""
);
case!(
    region_listed_twice,
    [(
        "enabled = [\"eu-west-1\", \"us-east-1\"]",
        "enabled = [\"eu-west-1\", \"eu-west-1\"]"
    )],
    "regions.enabled[1]",
    "listed twice",
    "once"
);
case!(
    region_in_list,
    [(
        "enabled = [\"eu-west-1\", \"us-east-1\"]",
        "enabled = [\"eu-west-1\", \"us-east1\"]"
    )],
    "regions.enabled[1]",
    "not a known AWS region",
    "did you mean `us-east-1`?"
);
case!(
    excluded_region,
    [(
        "enabled = [\"eu-west-1\", \"us-east-1\"]\nexclude = []",
        "enabled = [\"eu-west-1\", \"us-east-1\"]\nexclude = [\"eu-west-7\"]"
    )],
    "regions.exclude[0]",
    "not a known AWS region",
    "did you mean"
);
case!(
    no_region_left,
    [(
        "enabled = [\"eu-west-1\", \"us-east-1\"]\nexclude = []",
        "enabled = [\"eu-west-1\"]\nexclude = [\"eu-west-1\"]"
    )],
    "regions.enabled",
    "no region to configure",
    "sessions run"
);

// instance roles
case!(
    role_name,
    [(
        "existing = [\"SSMInstanceRole\"]",
        "existing = [\"SSM Instance Role\"]"
    )],
    "instance_roles.existing[0]",
    "not an IAM role name",
    "1 to 64"
);
case!(
    role_twice,
    [(
        "existing = [\"SSMInstanceRole\"]",
        "existing = [\"SSMInstanceRole\", \"other/SSMInstanceRole\"]"
    )],
    "instance_roles.existing[1]",
    "configured twice",
    "once"
);
case!(
    host_management_role_named_but_off,
    [
        (
            "default_host_management = true",
            "default_host_management = false"
        ),
        (
            "# default_host_management_role = ",
            "default_host_management_role = "
        )
    ],
    "instance_roles.default_host_management_role",
    "default_host_management is false",
    "set default_host_management = true"
);
case!(
    no_role,
    [
        ("existing = [\"SSMInstanceRole\"]", "existing = []"),
        (
            "default_host_management = true",
            "default_host_management = false"
        )
    ],
    "instance_roles",
    "no instance role",
    "create = "
);
case!(
    policy_name,
    [(
        "policy_name = \"SSMLogSessionLogging\"",
        "policy_name = \"SSM Log\""
    )],
    "instance_roles.policy_name",
    "not an IAM policy name",
    "1 to 128"
);

// session
case!(
    idle_timeout,
    [("idle_session_timeout = 20", "idle_session_timeout = 61")],
    "session.idle_session_timeout",
    "61 minutes is out of range",
    "1 to 60 minutes"
);
case!(
    max_duration,
    [("max_session_duration = 60", "max_session_duration = 1441")],
    "session.max_session_duration",
    "1441 minutes is out of range",
    "1 to 1440 minutes"
);
case!(
    no_starters,
    [(
        "starters = [\"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*\"]",
        "starters = []"
    )],
    "session.starters",
    "no principal may start",
    "starters = ["
);
case!(
    starter_pattern,
    [(
        "starters = [\"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*\"]",
        "starters = [\"AWSReservedSSO_*\"]"
    )],
    "session.starters[0]",
    "not an IAM principal ARN",
    "pattern"
);
case!(
    run_as_user,
    [(
        "run_as = { enabled = false, default_user = \"\" }",
        "run_as = { enabled = true, default_user = \"Root User\" }"
    )],
    "session.run_as.default_user",
    "not a usable OS user name",
    "existing OS user"
);
case!(
    run_as_user_without_enabled,
    [(
        "run_as = { enabled = false, default_user = \"\" }",
        "run_as = { enabled = false, default_user = \"ec2-user\" }"
    )],
    "session.run_as.default_user",
    "run_as.enabled is false",
    "run_as.enabled = true"
);
case!(
    log_group_name,
    [(
        "# [session.cloudwatch]\n# log_group_name = \"/ssmlog/sessions\"",
        "[session.cloudwatch]\nlog_group_name = \"bad group\""
    )],
    "session.cloudwatch.log_group_name",
    "not a CloudWatch Logs group name",
    "/ssmlog/sessions"
);

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = EXAMPLE_CONFIG
        .replace("id = \"o-a1b2c3d4e5\"", "id = \"o-x\"")
        .replace("idle_session_timeout = 20", "idle_session_timeout = 0");
    let errs = parse_config("ssmlog.toml", &text).unwrap_err().0;
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["organization.id", "session.idle_session_timeout"]);
    assert!(errs[0].line < errs[1].line);
}

/// The hardened profile's own requirements: no line (they are about the whole config), the
/// field, the message and the fix.
fn profile_errors(text: &str) -> Vec<ConfigError> {
    let cfg = parse_config("ssmlog.toml", text).unwrap();
    assert!(check_profile("ssmlog.toml", &cfg, Profile::Seed).is_ok());
    check_profile("ssmlog.toml", &cfg, Profile::Hardened)
        .unwrap_err()
        .0
}

#[test]
fn hardened_refuses_to_lock_the_bucket_and_keys_without_administrators() {
    let text = EXAMPLE_CONFIG.replace(
        "administrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]",
        "administrators = []",
    );
    let errs = profile_errors(&text);
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "bucket.administrators",
            "keys.bucket.administrators",
            "keys.session.administrators"
        ]
    );
    assert!(errs[0]
        .message
        .contains("at least one bucket administrator"));
    assert!(errs[1]
        .help
        .contains("cannot recover a key nobody may administer"));
    let shown = errs[0].to_string();
    assert!(
        shown.starts_with("ssmlog.toml: `bucket.administrators`: "),
        "{shown}"
    );
    // Naming the bucket's administrators is enough for the bucket, not for the keys.
    let named = text.replace(
        "# administrators = [\"arn:aws:iam::111122223333:role/LogArchiveAdmin\"]",
        "administrators = [\"arn:aws:iam::111122223333:role/LogArchiveAdmin\"]",
    );
    let errs = profile_errors(&named);
    assert!(
        errs.iter().all(|e| e.field.starts_with("keys.")),
        "{errs:?}"
    );
}

#[test]
fn hardened_refuses_a_single_region_session_key_when_sessions_run_elsewhere() {
    let text = EXAMPLE_CONFIG.replace(
        "[keys.session]\n",
        "[keys.session]\narn = \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\n",
    );
    let errs = profile_errors(&text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "keys.session.arn");
    assert!(
        errs[0].message.contains("sessions also run in us-east-1"),
        "{}",
        errs[0]
    );
    assert!(errs[0].help.contains("multi-Region key"), "{}", errs[0]);
    let mrk = text.replace(
        "key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "key/mrk-0123456789abcdef0123456789abcdef",
    );
    let cfg = parse_config("ssmlog.toml", &mrk).unwrap();
    assert!(check_profile("ssmlog.toml", &cfg, Profile::Hardened).is_ok());
}

#[test]
fn the_example_config_is_valid() {
    let cfg = parse_config("ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    assert_eq!(cfg.accounts.len(), 3);
    assert_eq!(cfg.regions, ["eu-west-1", "us-east-1"]);
    assert_eq!(cfg.instance_roles.len(), 2);
}

// Issue 12: `[guardrails]`, `[readers]` and the organization's tree.
const END: &str = "# streaming_enabled = true";
const GUARDRAILS: &str = "# streaming_enabled = true\n[guardrails]\nattach_to = [\"r-ab12\"]\ndeploy_roles = [\"arn:aws:iam::*:role/ssmlog-deploy\"]\n";
const TREE: (&str, &str) = (
    "id = \"o-a1b2c3d4e5\"\n",
    "id = \"o-a1b2c3d4e5\"\nroot_id = \"r-ab12\"\nunits = [{ id = \"ou-ab12-aaaaaaaa\", parent = \"r-ab12\" }]\n",
);

case!(
    guardrail_target,
    [(
        END,
        &format!("{GUARDRAILS}port_forwarding = []\n").replace("r-ab12", "x-1")
    )],
    "guardrails.attach_to[0]",
    "neither a root, an OU nor an account id",
    "12-digit account id"
);
case!(
    guardrail_ou_outside_the_tree,
    [
        (TREE.0, TREE.1),
        (
            END,
            &GUARDRAILS.replace("\"r-ab12\"]", "\"ou-ab12-zzzzzzzz\"]")
        )
    ],
    "guardrails.attach_to[0]",
    "not in the organization's tree",
    "organization.units"
);
case!(
    guardrail_without_deploy_roles,
    [(
        END,
        &GUARDRAILS.replace("\"arn:aws:iam::*:role/ssmlog-deploy\"", "")
    )],
    "guardrails.deploy_roles",
    "at least one deploy role",
    "deploys ssmlog"
);
case!(
    guardrail_session_document,
    [(
        END,
        &format!("{GUARDRAILS}session_documents = [\"AWS-StartSSHSession\"]\n")
    )],
    "guardrails.session_documents[0]",
    "is not a Session document",
    "port_forwarding"
);
case!(
    reader_arn,
    [(
        END,
        "# streaming_enabled = true\n[readers]\nroles = [\"SecurityAuditor\"]\n"
    )],
    "readers.roles[0]",
    "is not an IAM principal ARN",
    "pattern"
);
case!(
    parent_without_root,
    [(
        "{ id = \"222233334444\", name = \"workloads-dev\" }",
        "{ id = \"222233334444\", name = \"workloads-dev\", parent = \"ou-ab12-aaaaaaaa\" }"
    )],
    "organization.root_id",
    "need the organization's root id",
    "list-roots"
);

#[test]
fn the_tree_of_the_config_places_accounts_and_the_log_archive() {
    let text = EXAMPLE_CONFIG.replacen(TREE.0, TREE.1, 1).replacen(
        "{ id = \"222233334444\", name = \"workloads-dev\" }",
        "{ id = \"222233334444\", name = \"workloads-dev\", parent = \"ou-ab12-aaaaaaaa\" }",
        1,
    );
    let cfg = parse_config("ssmlog.toml", &text).unwrap();
    let tree = cfg.tree.as_ref().unwrap();
    let paths = tree.paths();
    assert_eq!(
        paths["222233334444"],
        ["r-ab12", "ou-ab12-aaaaaaaa", "222233334444"]
    );
    assert_eq!(paths["111122223333"], ["r-ab12", "111122223333"]);
    assert_eq!(paths["333344445555"], ["r-ab12", "333344445555"]);
    let state = ssmlog_render::render(&cfg, Profile::Seed);
    assert_eq!(state.organization.tree.as_ref(), Some(tree));
    // A cycle is refused.
    let text = text.replacen(
        "parent = \"r-ab12\" }",
        "parent = \"ou-ab12-aaaaaaaa\" }",
        1,
    );
    let errs = parse_config("ssmlog.toml", &text).unwrap_err().0;
    assert!(
        errs.iter()
            .any(|e| e.field == "organization.units[0].parent"
                && e.message.contains("its own ancestor")),
        "{errs:?}"
    );
}

#[test]
fn guardrails_render_in_the_hardened_profile_only() {
    let text = EXAMPLE_CONFIG.replacen(END, GUARDRAILS, 1);
    let cfg = parse_config("ssmlog.toml", &text).unwrap();
    check_profile("ssmlog.toml", &cfg, Profile::Hardened).unwrap();
    let hardened = ssmlog_render::render(&cfg, Profile::Hardened);
    let names: Vec<(&str, Vec<&str>)> = hardened
        .scps
        .iter()
        .map(|t| {
            (
                t.target.as_str(),
                t.policies.iter().map(|p| p.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("r-ab12", vec!["FullAWSAccess", "ssmlog-session-guardrails"])]
    );
    assert_eq!(hardened.rcps[0].target, "111122223333");
    let seed = ssmlog_render::render(&cfg, Profile::Seed);
    assert!(seed.scps.is_empty() && seed.rcps.is_empty());
}

#[test]
fn network_expected_names_member_accounts() {
    let text = format!(
        "{}\n[network]\nexpected = [\"999988887777\", \"12\"]\n",
        ssmlog_render::EXAMPLE_CONFIG
    );
    let errs = ssmlog_render::parse_config("ssmlog.toml", &text)
        .unwrap_err()
        .to_string();
    assert!(
        errs.contains("network.expected[0]") && errs.contains("not a member account"),
        "{errs}"
    );
    assert!(
        errs.contains("network.expected[1]") && errs.contains("not an AWS account id"),
        "{errs}"
    );
}
