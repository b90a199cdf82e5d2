//! A deterministic generator of requests, written from the AWS IAM documentation: each
//! family draws its policies, callers and context from small pools with a fixed-seed RNG.

use serde_json::{json, Value};

use super::model::*;

/// SplitMix64: small, fast, and the same sequence on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// True with probability `num`/`den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }

    /// A non-empty random subset (in pool order) of at most `max` elements.
    pub fn some_of<T: Clone>(&mut self, xs: &[T], max: usize) -> Vec<T> {
        let want = 1 + self.below(max.min(xs.len()));
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < want {
            let i = self.below(xs.len());
            if !picked.contains(&i) {
                picked.push(i);
            }
        }
        picked.sort_unstable();
        picked.into_iter().map(|i| xs[i].clone()).collect()
    }
}

/// One generated case.
pub struct Case {
    pub id: String,
    /// The family (for the report).
    pub category: &'static str,
    /// A finer class (known disagreements may be listed by class).
    pub class: String,
    pub request: Value,
}

struct Sink {
    cases: Vec<Case>,
    category: &'static str,
}

impl Sink {
    fn push(&mut self, class: impl Into<String>, req: &Req) {
        let id = format!("{}-{:04}", self.category, self.cases.len());
        self.cases.push(Case {
            id,
            category: self.category,
            class: class.into(),
            request: req.to_json(),
        });
    }
}

/// A family of cases: its name and the function that writes them.
type Family = (&'static str, fn(&mut Rng, &mut Sink));

/// Every family, in a fixed order.
pub fn all_cases(seed: u64) -> Vec<Case> {
    let families: &[Family] = &[
        ("seed", seed_family),
        ("cond-string", cond_string),
        ("cond-numeric", cond_numeric),
        ("cond-date", cond_date),
        ("cond-bool", cond_bool),
        ("cond-binary", cond_binary),
        ("cond-ip", cond_ip),
        ("cond-arn", cond_arn),
        ("cond-null", cond_null),
        ("cond-sets", cond_sets),
        ("action", action_family),
        ("resource", resource_family),
        ("variables", variables_family),
        ("principal", principal_family),
        ("deny", deny_family),
        ("scp", scp_family),
        ("rcp", rcp_family),
        ("boundary", boundary_family),
        ("anonymous", anonymous_family),
    ];
    let mut out = Vec::new();
    for (i, (name, family)) in families.iter().enumerate() {
        let mut rng = Rng::new(seed ^ ((i as u64 + 1) << 32));
        let mut sink = Sink {
            cases: Vec::new(),
            category: name,
        };
        family(&mut rng, &mut sink);
        out.extend(sink.cases);
    }
    out
}

// ---------------------------------------------------------------------------------------
// The seed document's three policies.

fn seed_family(rng: &mut Rng, sink: &mut Sink) {
    let callers = [
        ("member-session", Caller::instance(M1)),
        ("member-session", Caller::instance(M2)),
        ("member-user", Caller::user(M1, "alice")),
        ("member-role", Caller::role(M2, "SSMInstanceRole")),
        ("member-root", Caller::root(M1)),
        ("same-account-session", Caller::instance(LOG)),
        ("same-account-user", Caller::user(LOG, "auditor")),
        ("outsider-session", Caller::instance(OUT)),
        ("outsider-no-org", Caller::instance(OUT).no_org()),
        (
            "member-custom-role",
            Caller::session(M1, "Custom-Logs_Role", "i-0fff"),
        ),
    ];
    let s3_actions = [
        "s3:PutObject",
        "s3:PutObjectAcl",
        "s3:GetObject",
        "s3:DeleteObject",
    ];
    let kms_actions = [
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:Encrypt",
        "kms:DescribeKey",
        "kms:ScheduleKeyDeletion",
    ];
    for _ in 0..260 {
        let (label, caller) = rng.pick(&callers).clone();
        let kind = rng.below(3);
        let mut req = match kind {
            0 => {
                let action = *rng.pick(&s3_actions);
                let acct = caller.account.clone().unwrap_or_default();
                let keys = [
                    format!("{acct}/eu-west-1/alice-0a1b2c3d4e5f67890.log"),
                    "alice-0a1b2c3d4e5f67890.log".to_string(),
                    format!("{M2}/eu-west-1/bob-0fedcba987654321.log"),
                ];
                let key = rng.pick(&keys);
                let mut r = Req::new(caller, action, &object_arn(key), LOG)
                    .resource_policy(seed_bucket_policy());
                if action == "s3:PutObject" {
                    r = r.ctx("s3:x-amz-server-side-encryption", "aws:kms");
                }
                if action == "s3:PutObject" || action == "s3:PutObjectAcl" {
                    r = r.ctx("s3:x-amz-acl", "bucket-owner-full-control");
                }
                r
            }
            1 => Req::new(caller, "s3:GetEncryptionConfiguration", &bucket_arn(), LOG)
                .resource_policy(seed_bucket_policy()),
            _ => {
                let action = *rng.pick(&kms_actions);
                let key = *rng.pick(&[KEY1, KEY1, KEY2, OTHER_KEY]);
                let acct = if key == OTHER_KEY { OUT } else { LOG };
                let mut r = Req::new(caller, action, key, acct)
                    .resource_policy(seed_key_policy(rng.chance(1, 2)));
                if action.starts_with("kms:GenerateDataKey") || action == "kms:Decrypt" {
                    r = r.ctx("kms:ViaService", "s3.eu-west-1.amazonaws.com");
                    r = r.ctx(
                        "kms:EncryptionContext:aws:s3:arn",
                        &object_arn("222233334444/eu-west-1/alice-0a1b2c3d4e5f67890.log"),
                    );
                }
                r
            }
        };
        req = req.ctx("aws:SecureTransport", "true");
        match rng.below(4) {
            0 => {}
            1 => req = req.identity(full_access()),
            _ => req = req.identity(seed_role_policy()),
        }
        if rng.chance(1, 6) {
            req.resource_policy = None;
        }
        let class = format!("seed/{label}/{}", if kind == 2 { "kms" } else { "s3" });
        sink.push(class, &req);
    }
}

// ---------------------------------------------------------------------------------------
// Condition operator families. Each case puts one condition block either on the only Allow
// of a same-account identity policy (decision: Allowed iff it holds) or on a Deny beside an
// unconditional Allow (decision: ExplicitlyDenied iff it holds).

/// A condition key, the action and resource that carry it, and how to present it.
struct Key {
    name: &'static str,
    action: &'static str,
    resource: fn() -> String,
    multi: bool,
}

fn obj() -> String {
    object_arn("222233334444/eu-west-1/alice-0a1b2c3d4e5f67890.log")
}

fn key1() -> String {
    KEY1.to_string()
}

fn bkt() -> String {
    bucket_arn()
}

const PUT: &str = "s3:PutObject";

/// Puts a condition into a case and pushes it.
#[allow(clippy::too_many_arguments)]
fn push_condition(
    rng: &mut Rng,
    sink: &mut Sink,
    class: &str,
    key: &Key,
    operator: &str,
    policy_values: Value,
    request_value: Option<Value>,
    caller: Caller,
) {
    let resource = (key.resource)();
    let condition = json!({ operator: { key.name: policy_values } });
    let as_deny = rng.chance(1, 3);
    let policy = if as_deny {
        doc(vec![
            allow(key.action, "*"),
            with_condition(deny(key.action, resource.clone()), condition),
        ])
    } else {
        doc(vec![with_condition(
            allow(key.action, resource.clone()),
            condition,
        )])
    };
    let acct = caller.account.clone().unwrap_or_else(|| LOG.to_string());
    let mut req = Req::new(caller, key.action, &resource, &acct).identity(policy);
    if key.action.starts_with("kms:") {
        // A KMS key needs a key policy; delegate to IAM as the default key policy does.
        req = req.resource_policy(doc(vec![with_principal(
            allow("kms:*", "*"),
            json!({"AWS": format!("arn:aws:iam::{acct}:root")}),
        )]));
    }
    if let Some(v) = request_value {
        // Derived keys (aws:PrincipalTag/…, aws:PrincipalArn) are set through the caller.
        if !key.name.starts_with("aws:PrincipalTag/") && key.name != "aws:PrincipalArn" {
            req.context.insert(key.name.to_string(), v);
        }
    }
    let shape = if as_deny { "deny" } else { "allow" };
    sink.push(format!("{class}/{shape}"), &req);
}

fn with_if_exists(rng: &mut Rng, op: &str) -> (String, &'static str) {
    if rng.chance(1, 3) {
        (format!("{op}IfExists"), "ifexists")
    } else {
        (op.to_string(), "plain")
    }
}

/// A request value: missing (None), one value, or (for multi-valued keys) several.
fn request_value(rng: &mut Rng, pool: &[&str], multi: bool) -> (Option<Value>, &'static str) {
    if rng.chance(1, 6) {
        return (None, "missing");
    }
    if multi {
        if rng.chance(1, 8) {
            return (Some(json!([])), "empty");
        }
        let vs = rng.some_of(pool, 3);
        return (Some(json!(vs)), "multi");
    }
    (Some(json!(*rng.pick(pool))), "single")
}

fn policy_values(rng: &mut Rng, pool: &[&str]) -> Value {
    let vs = rng.some_of(pool, 3);
    if vs.len() == 1 && rng.chance(1, 2) {
        json!(vs[0])
    } else {
        json!(vs)
    }
}

fn cond_string(rng: &mut Rng, sink: &mut Sink) {
    let ops = [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    ];
    let acl = Key {
        name: "s3:x-amz-acl",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let region = Key {
        name: "aws:RequestedRegion",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let agent = Key {
        name: "aws:UserAgent",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let tag = Key {
        name: "aws:PrincipalTag/team",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let via = Key {
        name: "kms:ViaService",
        action: "kms:Decrypt",
        resource: key1,
        multi: false,
    };
    let pools: [(&Key, &[&str], &[&str]); 5] = [
        (
            &acl,
            &[
                "bucket-owner-full-control",
                "private",
                "Bucket-Owner-Full-Control",
                "bucket-owner-*",
                "*-read",
                "privat?",
                "*",
            ],
            &[
                "bucket-owner-full-control",
                "private",
                "public-read",
                "BUCKET-OWNER-FULL-CONTROL",
                "privat",
            ],
        ),
        (
            &region,
            &["eu-west-1", "us-east-1", "eu-*", "EU-WEST-1", "??-west-?"],
            &["eu-west-1", "us-east-1", "eu-central-1", "us-west-2"],
        ),
        (
            &agent,
            &[
                "aws-cli/*",
                "*Python*",
                "aws-sdk-go/1.?.*",
                "aws-cli/2.15.0 Python/3.11",
            ],
            &[
                "aws-cli/2.15.0 Python/3.11",
                "aws-sdk-go/1.4.2 (go1.21)",
                "Mozilla/5.0",
                "AWS-CLI/2.15.0",
            ],
        ),
        (
            &tag,
            &["ops", "dev", "Ops", "o*", "d?v", ""],
            &["ops", "dev", "OPS", "devops"],
        ),
        (
            &via,
            &[
                "s3.eu-west-1.amazonaws.com",
                "s3.*.amazonaws.com",
                "S3.EU-WEST-1.AMAZONAWS.COM",
            ],
            &[
                "s3.eu-west-1.amazonaws.com",
                "ssm.eu-west-1.amazonaws.com",
                "s3.us-east-1.amazonaws.com",
            ],
        ),
    ];
    for _ in 0..330 {
        let (key, ppool, rpool) = *rng.pick(&pools);
        let op0 = rng_pick_str(rng, &ops);
        let (op, ie) = with_if_exists(rng, op0);
        let pv = policy_values(rng, ppool);
        let (rv, shape) = request_value(rng, rpool, key.multi);
        let mut caller = Caller::user(LOG, "alice");
        if key.name == "aws:PrincipalTag/team" {
            if let Some(v) = &rv {
                caller = caller.tag("team", v.as_str().unwrap_or_default());
            }
        }
        let base = op.trim_end_matches("IfExists").to_string();
        push_condition(
            rng,
            sink,
            &format!("cond-string/{base}/{ie}/{shape}"),
            key,
            &op,
            pv,
            rv,
            caller,
        );
    }
}

fn rng_pick_str<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len())]
}

fn cond_numeric(rng: &mut Rng, sink: &mut Sink) {
    let ops = [
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    ];
    let max_keys = Key {
        name: "s3:max-keys",
        action: "s3:ListBucket",
        resource: bkt,
        multi: false,
    };
    let mfa_age = Key {
        name: "aws:MultiFactorAuthAge",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let keys = [&max_keys, &mfa_age];
    let ppool = ["0", "10", "100", "1000", "3600", "-5", "007"];
    let rpool = [
        "0", "9", "10", "11", "100", "999", "1000", "3600", "3601", "7",
    ];
    for _ in 0..200 {
        let key = *rng.pick(&keys);
        let op0 = rng_pick_str(rng, &ops);
        let (op, ie) = with_if_exists(rng, op0);
        let pv = policy_values(rng, &ppool);
        let (rv, shape) = request_value(rng, &rpool, false);
        let base = op.trim_end_matches("IfExists").to_string();
        let caller = Caller::user(LOG, "alice");
        push_condition(
            rng,
            sink,
            &format!("cond-numeric/{base}/{ie}/{shape}"),
            key,
            &op,
            pv,
            rv,
            caller,
        );
    }
}

fn cond_date(rng: &mut Rng, sink: &mut Sink) {
    let ops = [
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
    ];
    let now = Key {
        name: "aws:CurrentTime",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let issued = Key {
        name: "aws:TokenIssueTime",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let keys = [&now, &issued];
    let ppool = [
        "2024-01-01T00:00:00Z",
        "2024-06-15T12:00:00Z",
        "2024-06-15T12:00:00.000Z",
        "2024-06-15T14:00:00+02:00",
        "2025-01-01T00:00:00Z",
    ];
    let rpool = [
        "2024-06-15T12:00:00Z",
        "2023-12-31T23:59:59Z",
        "2024-06-15T11:59:59Z",
        "2024-06-15T12:00:01Z",
        "2025-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    ];
    for _ in 0..170 {
        let key = *rng.pick(&keys);
        let op0 = rng_pick_str(rng, &ops);
        let (op, ie) = with_if_exists(rng, op0);
        let pv = policy_values(rng, &ppool);
        let (rv, shape) = request_value(rng, &rpool, false);
        let base = op.trim_end_matches("IfExists").to_string();
        let caller = Caller::instance(LOG);
        push_condition(
            rng,
            sink,
            &format!("cond-date/{base}/{ie}/{shape}"),
            key,
            &op,
            pv,
            rv,
            caller,
        );
    }
}

fn cond_bool(rng: &mut Rng, sink: &mut Sink) {
    let tls = Key {
        name: "aws:SecureTransport",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let mfa = Key {
        name: "aws:MultiFactorAuthPresent",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let via = Key {
        name: "aws:ViaAWSService",
        action: "kms:GenerateDataKey",
        resource: key1,
        multi: false,
    };
    let keys = [&tls, &mfa, &via];
    for _ in 0..120 {
        let key = *rng.pick(&keys);
        let (op, ie) = with_if_exists(rng, "Bool");
        let pv = json!(*rng.pick(&["true", "false"]));
        let (rv, shape) = request_value(rng, &["true", "false"], false);
        let caller = Caller::instance(LOG);
        push_condition(
            rng,
            sink,
            &format!("cond-bool/Bool/{ie}/{shape}"),
            key,
            &op,
            pv,
            rv,
            caller,
        );
    }
}

fn cond_binary(rng: &mut Rng, sink: &mut Sink) {
    let agent = Key {
        name: "aws:UserAgent",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let pool = ["QmluYXJ5VmFsdWU=", "c3NtbG9n", "YWJj", "QUJD"];
    for _ in 0..50 {
        let (op, ie) = with_if_exists(rng, "BinaryEquals");
        let pv = policy_values(rng, &pool);
        let (rv, shape) = request_value(rng, &pool, false);
        let caller = Caller::user(LOG, "alice");
        push_condition(
            rng,
            sink,
            &format!("cond-binary/BinaryEquals/{ie}/{shape}"),
            &agent,
            &op,
            pv,
            rv,
            caller,
        );
    }
}

fn cond_ip(rng: &mut Rng, sink: &mut Sink) {
    let ip = Key {
        name: "aws:SourceIp",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let ppool = [
        "10.0.0.0/8",
        "192.0.2.0/24",
        "203.0.113.7/32",
        "203.0.113.7",
        "0.0.0.0/0",
        "198.51.100.0/25",
        "2001:db8::/32",
        "2001:db8:1234::/48",
    ];
    let rpool = [
        "10.1.2.3",
        "192.0.2.55",
        "203.0.113.7",
        "203.0.113.8",
        "198.51.100.127",
        "198.51.100.128",
        "2001:db8::1",
        "2001:db8:1234:5::9",
        "2001:db9::1",
    ];
    for _ in 0..170 {
        let op = *rng.pick(&["IpAddress", "NotIpAddress"]);
        let (op, ie) = with_if_exists(rng, op);
        let pv = policy_values(rng, &ppool);
        let (rv, shape) = request_value(rng, &rpool, false);
        let base = op.trim_end_matches("IfExists").to_string();
        let caller = Caller::instance(LOG);
        // Two shapes where iam-simulate 0.1.173 differs from the CIDR rules: a zero-length
        // prefix, and a list that mixes IPv4 and IPv6 ranges.
        let text = pv.to_string();
        let v6 = rv
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|v| v.contains(':'));
        let quirk = if text.contains("0.0.0.0/0") {
            "zero-prefix/"
        } else if rv.is_some() && ((v6 && text.contains('.')) || (!v6 && text.contains("2001:"))) {
            "mixed-family/"
        } else {
            ""
        };
        push_condition(
            rng,
            sink,
            &format!("cond-ip/{quirk}{base}/{ie}/{shape}"),
            &ip,
            &op,
            pv,
            rv,
            caller,
        );
    }
}

fn cond_arn(rng: &mut Rng, sink: &mut Sink) {
    let ops = ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"];
    let source = Key {
        name: "aws:SourceArn",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let principal = Key {
        name: "aws:PrincipalArn",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let ppool = [
        "arn:aws:iam::111122223333:role/SSMInstanceRole",
        "arn:aws:iam::*:role/SSM*",
        "arn:aws:iam::111122223333:role/*",
        "arn:aws:iam::1111????3333:role/SSMInstanceRole",
        "arn:aws:*:*:111122223333:*",
        "arn:aws:iam::111122223333:*",
        "arn:aws:s3:::central-*",
        "arn:aws:ssm:eu-west-1:111122223333:document/*",
        "arn:aws:iam::111122223333:role/ssminstancerole",
    ];
    let rpool = [
        "arn:aws:s3:::central-session-logs-111122223333",
        "arn:aws:ssm:eu-west-1:111122223333:document/SSM-SessionManagerRunShell",
        "arn:aws:iam::111122223333:role/SSMInstanceRole",
        "arn:aws:iam::111122223333:role/path/SSMInstanceRole",
        "not-an-arn",
    ];
    let roles = ["SSMInstanceRole", "LogReader", "SSM-Custom"];
    for _ in 0..200 {
        let key = if rng.chance(1, 2) {
            &source
        } else {
            &principal
        };
        let op0 = rng_pick_str(rng, &ops);
        let (op, ie) = with_if_exists(rng, op0);
        let pv = policy_values(rng, &ppool);
        let base = op.trim_end_matches("IfExists").to_string();
        if key.name == "aws:PrincipalArn" {
            let role = *rng.pick(&roles);
            let caller = if rng.chance(1, 4) {
                Caller::user(LOG, role)
            } else {
                Caller::session(LOG, role, "i-0123")
            };
            push_condition(
                rng,
                sink,
                &format!("cond-arn/{base}/{ie}/principal-arn"),
                key,
                &op,
                pv,
                Some(json!("")),
                caller,
            );
        } else {
            let (rv, shape) = request_value(rng, &rpool, false);
            let caller = Caller::instance(LOG);
            let not_arn = if rv.as_ref().and_then(Value::as_str) == Some("not-an-arn") {
                "not-an-arn/"
            } else {
                ""
            };
            push_condition(
                rng,
                sink,
                &format!("cond-arn/{not_arn}{base}/{ie}/{shape}"),
                key,
                &op,
                pv,
                rv,
                caller,
            );
        }
    }
}

fn cond_null(rng: &mut Rng, sink: &mut Sink) {
    let age = Key {
        name: "aws:MultiFactorAuthAge",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let sse = Key {
        name: "s3:x-amz-server-side-encryption",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let tag = Key {
        name: "aws:PrincipalTag/team",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let tags = Key {
        name: "aws:TagKeys",
        action: PUT,
        resource: obj,
        multi: true,
    };
    let keys = [&age, &sse, &tag, &tags];
    for _ in 0..120 {
        let key = *rng.pick(&keys);
        let pv = json!(*rng.pick(&["true", "false"]));
        let (rv, shape) = request_value(rng, &["aws:kms", "3600", "ops", "team"], key.multi);
        let mut caller = Caller::user(LOG, "alice");
        if key.name == "aws:PrincipalTag/team" {
            if let Some(v) = &rv {
                caller = caller.tag("team", v.as_str().unwrap_or_default());
            }
        }
        push_condition(
            rng,
            sink,
            &format!("cond-null/Null/{shape}"),
            key,
            "Null",
            pv,
            rv,
            caller,
        );
    }
}

fn cond_sets(rng: &mut Rng, sink: &mut Sink) {
    let tag_keys = Key {
        name: "aws:TagKeys",
        action: PUT,
        resource: obj,
        multi: true,
    };
    let ctx_keys = Key {
        name: "kms:EncryptionContextKeys",
        action: "kms:GenerateDataKey",
        resource: key1,
        multi: true,
    };
    let called_via = Key {
        name: "aws:CalledVia",
        action: "kms:Decrypt",
        resource: key1,
        multi: true,
    };
    let region = Key {
        name: "aws:RequestedRegion",
        action: PUT,
        resource: obj,
        multi: false,
    };
    let qualifiers = ["ForAllValues:", "ForAnyValue:", ""];
    let ops = [
        "StringEquals",
        "StringLike",
        "StringNotEquals",
        "StringNotLike",
        "StringEqualsIgnoreCase",
    ];
    type Pools<'a> = (&'a Key, &'a [&'a str], &'a [&'a str]);
    let pools: [Pools; 4] = [
        (
            &tag_keys,
            &["team", "env", "Team", "own*", "*"],
            &["team", "env", "owner", "Team", "cost-center"],
        ),
        (
            &ctx_keys,
            &[
                "aws:s3:arn",
                "aws:ssm:*",
                "aws:ssm:SessionId",
                "aws:ssm:TargetId",
            ],
            &[
                "aws:s3:arn",
                "aws:ssm:SessionId",
                "aws:ssm:TargetId",
                "other",
            ],
        ),
        (
            &called_via,
            &["s3.amazonaws.com", "*.amazonaws.com", "ssm.amazonaws.com"],
            &[
                "s3.amazonaws.com",
                "ssm.amazonaws.com",
                "athena.amazonaws.com",
            ],
        ),
        (
            &region,
            &["eu-west-1", "eu-*", "us-east-1"],
            &["eu-west-1", "us-east-1"],
        ),
    ];
    for _ in 0..300 {
        let (key, ppool, rpool) = *rng.pick(&pools);
        let q = *rng.pick(&qualifiers);
        let op = *rng.pick(&ops);
        let (op, ie) = if rng.chance(1, 5) {
            (format!("{op}IfExists"), "ifexists")
        } else {
            (op.to_string(), "plain")
        };
        let full = format!("{q}{op}");
        let pv = policy_values(rng, ppool);
        let (rv, shape) = request_value(rng, rpool, key.multi);
        let qual = if q.is_empty() {
            "none"
        } else {
            q.trim_end_matches(':')
        };
        let keyclass = if key.multi { "multi-key" } else { "single-key" };
        let base = op.trim_end_matches("IfExists").to_string();
        let caller = Caller::instance(LOG);
        push_condition(
            rng,
            sink,
            &format!("cond-sets/{qual}/{keyclass}/{shape}/{base}/{ie}"),
            key,
            &full,
            pv,
            rv,
            caller,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Action and NotAction.

fn action_family(rng: &mut Rng, sink: &mut Sink) {
    let patterns = [
        "s3:PutObject",
        "s3:putobject",
        "S3:PUTOBJECT",
        "s3:Put*",
        "s3:*Object",
        "s3:?utObject",
        "s3:Put?bject*",
        "s3:*",
        "*",
        "kms:*",
        "s3:Get*",
        "s3:PutObject*",
        "kms:GenerateDataKey*",
        "kms:*crypt",
        "s3:*Acl",
    ];
    let requests = [
        ("s3:PutObject", "s3", "request"),
        ("s3:putobject", "s3", "odd-case-request"),
        ("S3:PUTOBJECT", "s3", "odd-case-request"),
        ("s3:PutObjectAcl", "s3", "request"),
        ("s3:GetObject", "s3", "request"),
        ("s3:DeleteObject", "s3", "request"),
        ("kms:Decrypt", "kms", "request"),
        ("kms:GenerateDataKey", "kms", "request"),
        (
            "KMS:generatedatakeywithoutplaintext",
            "kms",
            "odd-case-request",
        ),
        ("kms:Encrypt", "kms", "request"),
    ];
    for _ in 0..220 {
        let (action, service, case) = *rng.pick(&requests);
        let (resource, acct) = if service == "s3" {
            (obj(), LOG)
        } else {
            (KEY1.to_string(), LOG)
        };
        let pats = rng.some_of(&patterns, 3);
        let not = rng.chance(1, 3);
        let element = if not { "NotAction" } else { "Action" };
        let mut statement = json!({"Effect": "Allow", "Resource": "*"});
        statement[element] = if pats.len() == 1 {
            json!(pats[0])
        } else {
            json!(pats)
        };
        let mut statements = vec![statement];
        let with_deny = rng.chance(1, 4);
        if with_deny {
            let dp = rng.some_of(&patterns, 2);
            let delement = if rng.chance(1, 2) {
                "NotAction"
            } else {
                "Action"
            };
            let mut d = json!({"Effect": "Deny", "Resource": "*"});
            d[delement] = json!(dp);
            statements.push(d);
        }
        let mut req =
            Req::new(Caller::user(LOG, "alice"), action, &resource, acct).identity(doc(statements));
        if service == "kms" {
            req = req.resource_policy(doc(vec![with_principal(
                allow("kms:*", "*"),
                json!({"AWS": format!("arn:aws:iam::{LOG}:root")}),
            )]));
        }
        sink.push(
            format!(
                "action/{element}/{case}{}",
                if with_deny { "/with-deny" } else { "" }
            ),
            &req,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Resource and NotResource.

fn resource_family(rng: &mut Rng, sink: &mut Sink) {
    let s3_patterns = [
        "*",
        "arn:aws:s3:::central-session-logs-111122223333/*",
        "arn:aws:s3:::central-*",
        "arn:aws:s3:::central-session-logs-111122223333/222233334444/*",
        "arn:aws:s3:::*/222233334444/*",
        "arn:aws:s3:::central-session-logs-111122223333/2222????4444/*",
        "arn:aws:s3:::central-session-logs-111122223333/*/eu-west-1/*.log",
        "arn:aws:s3:::Central-Session-Logs-111122223333/*",
        "arn:aws:s3:::central-session-logs-111122223333",
        "arn:aws:s3:::central-session-logs-11112222333?",
        "arn:aws:s3:::*",
        "arn:aws:*",
        "arn:aws:s3:*",
        "arn:aws:s3:::central-session-logs-111122223333/222233334444/eu-west-1/alice-0a1b2c3d4e5f67890.log",
        "arn:aws:s3:::central-session-logs-111122223333/?",
    ];
    let kms_patterns = [
        "*",
        "arn:aws:kms:eu-west-1:111122223333:key/*",
        "arn:aws:kms:*:111122223333:key/1111aaaa-*",
        "arn:aws:kms:eu-west-?:111122223333:*",
        "arn:aws:kms:*",
        "arn:aws:*:*:111122223333:key/*",
        "arn:aws:kms:eu-west-1:111122223333:alias/*",
        "arn:aws:kms:*:key/1111aaaa-2222-bbbb-3333-cccc4444dddd",
        "arn:aws:kms:eu-west-1:*",
        "arn:aws:kms:eu-west-1:111122223333:KEY/*",
        KEY1,
    ];
    let objects = [
        "222233334444/eu-west-1/alice-0a1b2c3d4e5f67890.log",
        "333344445555/eu-west-1/bob-0fedcba987654321.log",
        "alice-0a1b2c3d4e5f67890.log",
        "a",
        "222233334444/us-east-1/x.log",
    ];
    for _ in 0..260 {
        let kms = rng.chance(1, 3);
        let (action, resource, patterns): (&str, String, &[&str]) = if kms {
            (
                *rng.pick(&["kms:Decrypt", "kms:GenerateDataKey"]),
                KEY1.to_string(),
                &kms_patterns,
            )
        } else if rng.chance(1, 5) {
            ("s3:GetEncryptionConfiguration", bucket_arn(), &s3_patterns)
        } else {
            let object = *rng.pick(&objects);
            (
                *rng.pick(&["s3:PutObject", "s3:GetObject"]),
                object_arn(object),
                &s3_patterns,
            )
        };
        let pats = rng.some_of(patterns, 3);
        let not = rng.chance(1, 3);
        let element = if not { "NotResource" } else { "Resource" };
        let mut statement = json!({"Effect": "Allow", "Action": "*"});
        statement[element] = if pats.len() == 1 {
            json!(pats[0])
        } else {
            json!(pats)
        };
        let mut statements = vec![statement];
        if rng.chance(1, 5) {
            let dp = rng.some_of(patterns, 2);
            let mut d = json!({"Effect": "Deny", "Action": action});
            d[if rng.chance(1, 2) {
                "NotResource"
            } else {
                "Resource"
            }] = json!(dp);
            statements.push(d);
        }
        let mut req =
            Req::new(Caller::instance(LOG), action, &resource, LOG).identity(doc(statements));
        if kms {
            req = req.resource_policy(doc(vec![with_principal(
                allow("kms:*", "*"),
                json!({"AWS": LOG}),
            )]));
        }
        let svc = if kms { "kms" } else { "s3" };
        sink.push(
            format!("resource/{}{element}/{svc}", short_arn_class(&req)),
            &req,
        );
    }
    // The same patterns in a bucket policy, cross-account.
    for _ in 0..60 {
        let pats = rng.some_of(&s3_patterns, 2);
        let key = rng.pick(&objects).to_string();
        let mut statement = with_principal(
            json!({"Effect": "Allow", "Action": "s3:PutObject"}),
            json!({"AWS": M1}),
        );
        let not = rng.chance(1, 3);
        let element = if not { "NotResource" } else { "Resource" };
        statement[element] = json!(pats);
        let req = Req::new(Caller::instance(M1), "s3:PutObject", &object_arn(&key), LOG)
            .identity(full_access())
            .resource_policy(doc(vec![statement]));
        sink.push(
            format!("resource/{}bucket-policy/{element}", short_arn_class(&req)),
            &req,
        );
    }
}

/// Resource patterns of unusual shape: `service-wildcard/` when one puts a wildcard in the
/// service segment (`arn:aws:*`, `arn:aws:*:*:111122223333:key/*`), which IAM forbids;
/// otherwise `short-arn/trailing-star/` when it has fewer than six segments and ends in a `*`
/// that must expand over the missing colons (`arn:aws:kms:*`).
fn short_arn_class(req: &Req) -> &'static str {
    let text = serde_json::to_string(&req.to_json()["policies"]).unwrap_or_default();
    let mut short = false;
    let mut service = false;
    for token in text.split('"') {
        if token.starts_with("arn:") {
            short |= token.split(':').count() < 6;
            service |= token.split(':').nth(2).is_some_and(|s| s.contains('*'));
        }
    }
    match (short, service) {
        (_, true) => "service-wildcard/",
        (true, false) => "short-arn/trailing-star/",
        _ => "",
    }
}

// ---------------------------------------------------------------------------------------
// Policy variables.

fn variables_family(rng: &mut Rng, sink: &mut Sink) {
    let templates = [
        ("principal-account", "arn:aws:s3:::central-session-logs-111122223333/${aws:PrincipalAccount}/*"),
        ("username", "arn:aws:s3:::central-session-logs-111122223333/${aws:username}/*"),
        ("principal-tag", "arn:aws:s3:::central-session-logs-111122223333/${aws:PrincipalTag/team}/*"),
        ("default", "arn:aws:s3:::central-session-logs-111122223333/${aws:PrincipalTag/team, 'shared'}/*"),
        ("default", "arn:aws:s3:::central-session-logs-111122223333/${aws:username, 'nobody'}/*"),
        ("escape-star", "arn:aws:s3:::central-session-logs-111122223333/${*}/*"),
        ("escape-question", "arn:aws:s3:::central-session-logs-111122223333/file${?}.log"),
        ("escape-dollar", "arn:aws:s3:::central-session-logs-111122223333/${$}/*"),
        ("case", "arn:aws:s3:::central-session-logs-111122223333/${AWS:PrincipalAccount}/*"),
        ("two", "arn:aws:s3:::central-session-logs-111122223333/${aws:PrincipalAccount}/${aws:username}/*"),
    ];
    let keys = [
        "222233334444/eu-west-1/x.log",
        "111122223333/x.log",
        "alice/x.log",
        "ops/x.log",
        "shared/x.log",
        "nobody/x.log",
        "file?.log",
        "filea.log",
        "$/x.log",
        "111122223333/alice/x.log",
        "x/y.log",
    ];
    let callers = [
        Caller::user(LOG, "alice"),
        Caller::user(LOG, "alice").tag("team", "ops"),
        Caller::instance(LOG),
        Caller::instance(LOG).tag("team", "ops"),
        Caller::root(LOG),
    ];
    for _ in 0..220 {
        let (label, template) = *rng.pick(&templates);
        let caller = rng.pick(&callers).clone();
        let key = *rng.pick(&keys);
        let in_condition = rng.chance(1, 4);
        let statement = if in_condition {
            // The same template, in a condition value instead of the Resource element.
            with_condition(
                allow("s3:PutObject", "*"),
                json!({"StringLike": {"s3:prefix": template.trim_start_matches("arn:aws:s3:::central-session-logs-111122223333/")}}),
            )
        } else {
            allow("s3:PutObject", template)
        };
        let (action, resource) = if in_condition {
            ("s3:ListBucket", bucket_arn())
        } else {
            ("s3:PutObject", object_arn(key))
        };
        let statement = if in_condition {
            let mut s = statement;
            s["Action"] = json!("s3:ListBucket");
            s
        } else {
            statement
        };
        let mut req = Req::new(caller, action, &resource, LOG).identity(doc(vec![statement]));
        if in_condition {
            req = req.ctx("s3:prefix", key);
        }
        let place = if in_condition {
            "condition"
        } else {
            "resource"
        };
        sink.push(format!("variables/{label}/{place}"), &req);
    }
}

// ---------------------------------------------------------------------------------------
// Principal forms in resource policies, NotPrincipal with Deny.

fn principal_family(rng: &mut Rng, sink: &mut Sink) {
    let forms = [
        ("star", json!("*")),
        ("aws-star", json!({"AWS": "*"})),
        ("account-id", json!({"AWS": M1})),
        (
            "account-root",
            json!({"AWS": format!("arn:aws:iam::{M1}:root")}),
        ),
        (
            "role-arn",
            json!({"AWS": format!("arn:aws:iam::{M1}:role/SSMInstanceRole")}),
        ),
        (
            "session-arn",
            json!({"AWS": format!("arn:aws:sts::{M1}:assumed-role/SSMInstanceRole/i-0123456789abcdef0")}),
        ),
        (
            "user-arn",
            json!({"AWS": format!("arn:aws:iam::{M1}:user/alice")}),
        ),
        ("same-account-id", json!({"AWS": LOG})),
        (
            "same-account-role",
            json!({"AWS": format!("arn:aws:iam::{LOG}:role/SSMInstanceRole")}),
        ),
        (
            "same-account-user",
            json!({"AWS": format!("arn:aws:iam::{LOG}:user/alice")}),
        ),
        ("service", json!({"Service": "s3.amazonaws.com"})),
        (
            "service-list",
            json!({"Service": ["logging.s3.amazonaws.com", "s3.amazonaws.com"]}),
        ),
        (
            "list",
            json!({"AWS": [LOG, format!("arn:aws:iam::{M1}:role/SSMInstanceRole")]}),
        ),
        (
            "outsider-root",
            json!({"AWS": format!("arn:aws:iam::{OUT}:root")}),
        ),
    ];
    let callers = [
        ("member-session", Caller::instance(M1)),
        ("member-user", Caller::user(M1, "alice")),
        ("member-root", Caller::root(M1)),
        ("member-role", Caller::role(M1, "SSMInstanceRole")),
        (
            "member-other-session",
            Caller::session(M1, "SSMInstanceRole", "i-0999"),
        ),
        ("same-session", Caller::instance(LOG)),
        ("same-user", Caller::user(LOG, "alice")),
        ("same-root", Caller::root(LOG)),
        ("outsider", Caller::instance(OUT)),
        ("service", Caller::service("s3.amazonaws.com")),
        ("anonymous", Caller::anonymous()),
    ];
    for _ in 0..330 {
        let (clabel, caller) = rng.pick(&callers).clone();
        let (flabel, form) = rng.pick(&forms).clone();
        let kms = rng.chance(1, 4) && caller.arn != "anonymous";
        let (action, resource) = if kms {
            ("kms:Decrypt", KEY1.to_string())
        } else if clabel == "anonymous" {
            ("s3:GetObject", obj())
        } else {
            (*rng.pick(&["s3:PutObject", "s3:GetObject"]), obj())
        };
        let not_principal = rng.chance(1, 4);
        let statements = if not_principal {
            // Allow everyone, then deny everyone except the listed principals.
            vec![
                with_principal(allow(action, "*"), json!("*")),
                json!({"Effect": "Deny", "NotPrincipal": form, "Action": action, "Resource": "*"}),
            ]
        } else {
            vec![with_principal(allow(action, "*"), form)]
        };
        let mut req =
            Req::new(caller.clone(), action, &resource, LOG).resource_policy(doc(statements));
        if caller.is_iam() && rng.chance(2, 3) {
            req = req.identity(full_access());
        }
        if clabel == "service" {
            req = req.ctx("aws:SourceAccount", M1);
        }
        let shape = if not_principal {
            "not-principal"
        } else {
            "principal"
        };
        let svc = if kms { "kms" } else { "s3" };
        sink.push(format!("principal/{shape}/{flabel}/{clabel}/{svc}"), &req);
    }
}

// ---------------------------------------------------------------------------------------
// Explicit deny against allow, in identity and resource policies.

fn deny_family(rng: &mut Rng, sink: &mut Sink) {
    let callers = [
        Caller::instance(M1),
        Caller::instance(LOG),
        Caller::user(LOG, "alice"),
    ];
    for _ in 0..160 {
        let caller = rng.pick(&callers).clone();
        let cross = caller.account.as_deref() != Some(LOG);
        let action = *rng.pick(&["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"]);
        let deny_tls = with_condition(
            deny("s3:*", "*"),
            json!({"Bool": {"aws:SecureTransport": "false"}}),
        );
        let deny_sse = with_condition(
            deny("s3:PutObject", format!("{}/*", bucket_arn())),
            json!({"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}),
        );
        let deny_other_prefix = with_condition(
            deny("s3:PutObject", format!("{}/*", bucket_arn())),
            json!({"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/SSM*"}}),
        );
        let mut identity = vec![allow("s3:*", "*")];
        let mut resource = vec![with_principal(
            allow("s3:*", format!("{}/*", bucket_arn())),
            json!({"AWS": "*"}),
        )];
        let mut where_denied = Vec::new();
        for (name, d) in [
            ("tls", deny_tls),
            ("sse", deny_sse),
            ("prefix", deny_other_prefix),
        ] {
            match rng.below(3) {
                0 => {
                    identity.push(d);
                    where_denied.push(format!("identity-{name}"));
                }
                1 => {
                    resource.push(with_principal(d, json!("*")));
                    where_denied.push(format!("resource-{name}"));
                }
                _ => {}
            }
        }
        let mut req = Req::new(caller, action, &obj(), LOG)
            .identity(doc(identity))
            .resource_policy(doc(resource));
        if rng.chance(2, 3) {
            req = req.ctx("aws:SecureTransport", rng_pick_str(rng, &["true", "false"]));
        }
        if action == "s3:PutObject" && rng.chance(2, 3) {
            req = req.ctx(
                "s3:x-amz-server-side-encryption",
                rng_pick_str(rng, &["aws:kms", "AES256"]),
            );
        }
        let acct = if cross { "cross" } else { "same" };
        sink.push(format!("deny/{acct}"), &req);
    }
}

// ---------------------------------------------------------------------------------------
// Service control policies by level.

fn scp_family(rng: &mut Rng, sink: &mut Sink) {
    let level_policies = [
        ("full", full_access()),
        ("allow-s3", doc(vec![allow("s3:*", "*")])),
        ("allow-kms", doc(vec![allow("kms:*", "*")])),
        ("deny-kms", doc(vec![deny("kms:*", "*")])),
        (
            "deny-regions",
            doc(vec![with_condition(
                deny("*", "*"),
                json!({"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}),
            )]),
        ),
        (
            "deny-unencrypted",
            doc(vec![with_condition(
                deny("s3:PutObject", "*"),
                json!({"Null": {"s3:x-amz-server-side-encryption": "true"}}),
            )]),
        ),
        (
            "allow-put-only",
            doc(vec![allow(json!(["s3:PutObject", "s3:PutObjectAcl"]), "*")]),
        ),
    ];
    for _ in 0..200 {
        let levels = 1 + rng.below(3);
        let mut scps = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..levels {
            let n = rng.below(3);
            let mut ps = Vec::new();
            let mut names = Vec::new();
            for _ in 0..n.max(1) {
                let (name, p) = rng.pick(&level_policies).clone();
                ps.push(p);
                names.push(name);
            }
            if rng.chance(1, 12) {
                ps.clear();
                names = vec!["none"];
            }
            labels.push(names.join("+"));
            scps.push(ps);
        }
        let caller_account = *rng.pick(&[M1, LOG, MGMT]);
        let caller = Caller::instance(caller_account);
        let (action, resource, acct) = match rng.below(3) {
            0 => ("s3:PutObject", obj(), LOG),
            1 => ("kms:GenerateDataKey", KEY1.to_string(), LOG),
            _ => (
                "s3:GetObject",
                format!("arn:aws:s3:::own-bucket-{caller_account}/k"),
                caller_account,
            ),
        };
        let mut req = Req::new(caller, action, &resource, acct).identity(full_access());
        req.scps = scps;
        if action.starts_with("kms:") {
            req = req.resource_policy(seed_key_policy(true));
        } else if acct == LOG {
            req = req.resource_policy(seed_bucket_policy());
        }
        if rng.chance(1, 2) {
            req = req.ctx(
                "aws:RequestedRegion",
                rng_pick_str(rng, &["eu-west-1", "us-east-1"]),
            );
        }
        if action == "s3:PutObject" && rng.chance(1, 2) {
            req = req.ctx("s3:x-amz-server-side-encryption", "aws:kms");
        }
        let mgmt = caller_account == MGMT;
        req.principal_in_mgmt = mgmt;
        let who = if mgmt { "management" } else { "member" };
        let empty = if labels.iter().any(|l| l == "none") {
            "/empty-level"
        } else {
            ""
        };
        sink.push(format!("scp/{who}{empty}"), &req);
    }
}

// ---------------------------------------------------------------------------------------
// Resource control policies by level.

fn rcp_family(rng: &mut Rng, sink: &mut Sink) {
    let deny_outside_org = doc(vec![with_condition(
        with_principal(deny(json!(["s3:*", "kms:*"]), "*"), json!("*")),
        json!({
            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}
        }),
    )]);
    let deny_insecure = doc(vec![with_condition(
        with_principal(deny("s3:*", "*"), json!("*")),
        json!({"BoolIfExists": {"aws:SecureTransport": "false"}}),
    )]);
    let deny_kms_not_via_s3 = doc(vec![with_condition(
        with_principal(deny("kms:GenerateDataKey", "*"), json!("*")),
        json!({"StringNotLike": {"kms:ViaService": "s3.*.amazonaws.com"}}),
    )]);
    let pool = [
        ("full", rcp_full_access()),
        ("deny-outside-org", deny_outside_org),
        ("deny-insecure", deny_insecure),
        ("deny-kms-not-via-s3", deny_kms_not_via_s3),
    ];
    let callers = [
        ("member", Caller::instance(M1)),
        ("outsider", Caller::instance(OUT)),
        ("same", Caller::instance(LOG)),
        ("service", Caller::service("s3.amazonaws.com")),
    ];
    for _ in 0..180 {
        let levels = 1 + rng.below(3);
        let mut rcps = Vec::new();
        for _ in 0..levels {
            // Every level carries the AWS-managed RCPFullAWSAccess, as AWS attaches it and it
            // cannot be detached; the customer RCPs beside it only deny.
            let mut ps = vec![rcp_full_access()];
            for _ in 0..rng.below(3) {
                let (name, p) = rng.pick(&pool).clone();
                if name != "full" {
                    ps.push(p);
                }
            }
            rcps.push(ps);
        }
        let (clabel, caller) = rng.pick(&callers).clone();
        let kms = rng.chance(1, 3) && clabel != "service";
        let (action, resource) = if kms {
            ("kms:GenerateDataKey", KEY1.to_string())
        } else {
            ("s3:PutObject", obj())
        };
        let mut req = Req::new(caller.clone(), action, &resource, LOG);
        if caller.is_iam() {
            req = req.identity(full_access());
        }
        let policy = if kms {
            doc(vec![with_principal(
                allow("kms:*", "*"),
                json!({"AWS": "*"}),
            )])
        } else {
            doc(vec![with_principal(
                allow("s3:*", "*"),
                json!({"AWS": "*", "Service": "s3.amazonaws.com"}),
            )])
        };
        req = req.resource_policy(policy);
        req.rcps = rcps;
        if rng.chance(2, 3) {
            req = req.ctx("aws:SecureTransport", rng_pick_str(rng, &["true", "false"]));
        }
        if kms && rng.chance(2, 3) {
            req = req.ctx(
                "kms:ViaService",
                rng_pick_str(
                    rng,
                    &["s3.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"],
                ),
            );
        }
        if clabel == "service" {
            req = req.ctx("aws:SourceAccount", LOG);
        }
        req.resource_in_mgmt = rng.chance(1, 10);
        let mgmt = if req.resource_in_mgmt {
            "/management"
        } else {
            ""
        };
        sink.push(format!("rcp/{clabel}{mgmt}"), &req);
    }
}

// ---------------------------------------------------------------------------------------
// Permissions boundaries, alone and with same- and cross-account resource policies.

fn boundary_family(rng: &mut Rng, sink: &mut Sink) {
    let boundaries = [
        ("get-only", doc(vec![allow("s3:GetObject", "*")])),
        ("s3-all", doc(vec![allow("s3:*", "*")])),
        (
            "put-with-sse",
            doc(vec![with_condition(
                allow("s3:Put*", "*"),
                json!({"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}),
            )]),
        ),
        (
            "deny-put",
            doc(vec![allow("*", "*"), deny("s3:PutObject", "*")]),
        ),
        ("kms-only", doc(vec![allow("kms:*", "*")])),
    ];
    let callers = [
        ("same-user", Caller::user(LOG, "alice")),
        ("same-session", Caller::instance(LOG)),
        ("same-role", Caller::role(LOG, "SSMInstanceRole")),
        ("cross-session", Caller::instance(M1)),
    ];
    for _ in 0..220 {
        let (blabel, boundary) = rng.pick(&boundaries).clone();
        let (clabel, caller) = rng.pick(&callers).clone();
        let acct = caller.account.clone().unwrap_or_default();
        let kms = rng.chance(1, 4);
        let action = if kms {
            *rng.pick(&["kms:Decrypt", "kms:GenerateDataKey"])
        } else {
            *rng.pick(&["s3:PutObject", "s3:GetObject"])
        };
        let resource = if kms { KEY1.to_string() } else { obj() };
        let named = [
            ("none", None),
            ("account", Some(json!({"AWS": acct}))),
            ("star", Some(json!({"AWS": "*"}))),
            (
                "user-arn",
                Some(json!({"AWS": format!("arn:aws:iam::{acct}:user/alice")})),
            ),
            (
                "role-arn",
                Some(json!({"AWS": format!("arn:aws:iam::{acct}:role/SSMInstanceRole")})),
            ),
            (
                "session-arn",
                Some(
                    json!({"AWS": format!("arn:aws:sts::{acct}:assumed-role/SSMInstanceRole/i-0123456789abcdef0")}),
                ),
            ),
        ];
        let (plabel, principal) = rng.pick(&named).clone();
        let identity_allows = rng.chance(2, 3);
        let mut req = Req::new(caller, action, &resource, LOG);
        if identity_allows {
            req = req.identity(full_access());
        }
        req.boundary = Some(boundary);
        match principal {
            Some(p) => {
                req = req.resource_policy(doc(vec![with_principal(allow(action, "*"), p)]));
            }
            None if kms => {
                req = req.resource_policy(doc(vec![with_principal(
                    allow("kms:*", "*"),
                    json!({"AWS": LOG}),
                )]));
            }
            None => {}
        }
        if action == "s3:PutObject" && rng.chance(1, 2) {
            req = req.ctx("s3:x-amz-server-side-encryption", "aws:kms");
        }
        let id = if identity_allows {
            "identity-allows"
        } else {
            "no-identity"
        };
        let svc = if kms { "kms" } else { "s3" };
        sink.push(
            format!("boundary/{blabel}/{clabel}/{plabel}/{id}/{svc}"),
            &req,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Anonymous (unsigned) requests and the keys AWS sets, or does not set, for them.

fn anonymous_family(rng: &mut Rng, sink: &mut Sink) {
    let conditions = [
        (
            "principal-is-aws-service-null",
            json!({"Null": {"aws:PrincipalIsAWSService": "true"}}),
        ),
        (
            "principal-is-aws-service-false",
            json!({"Bool": {"aws:PrincipalIsAWSService": "false"}}),
        ),
        (
            "principal-account-null",
            json!({"Null": {"aws:PrincipalAccount": "true"}}),
        ),
        (
            "principal-type",
            json!({"StringEquals": {"aws:PrincipalType": "Anonymous"}}),
        ),
        (
            "secure-transport",
            json!({"Bool": {"aws:SecureTransport": "true"}}),
        ),
        (
            "principal-org-null",
            json!({"Null": {"aws:PrincipalOrgID": "false"}}),
        ),
    ];
    let principals = [json!("*"), json!({"AWS": "*"}), json!({"AWS": LOG})];
    for _ in 0..60 {
        let (label, condition) = rng.pick(&conditions).clone();
        let principal = rng.pick(&principals).clone();
        let as_deny = rng.chance(1, 2);
        let statements = if as_deny {
            vec![
                with_principal(allow("s3:GetObject", "*"), principal),
                with_condition(
                    with_principal(deny("s3:GetObject", "*"), json!("*")),
                    condition,
                ),
            ]
        } else {
            vec![with_condition(
                with_principal(allow("s3:GetObject", "*"), principal),
                condition,
            )]
        };
        let mut req = Req::new(Caller::anonymous(), "s3:GetObject", &obj(), LOG)
            .resource_policy(doc(statements));
        if rng.chance(2, 3) {
            req = req.ctx("aws:SecureTransport", rng_pick_str(rng, &["true", "false"]));
        }
        let shape = if as_deny { "deny" } else { "allow" };
        sink.push(format!("anonymous/{label}/{shape}"), &req);
    }
}
