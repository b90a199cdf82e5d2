//! The world the generated cases live in (accounts, principals, the seed's policies) and a
//! builder for requests in the form of `docs/iam-request.md`.

use serde_json::{json, Map, Value};

pub const ORG: &str = "o-a1b2c3d4e5";
pub const OTHER_ORG: &str = "o-zz9988yy77";
/// Log-archive account: owns the bucket and the keys.
pub const LOG: &str = "111122223333";
/// Member accounts whose instances upload logs.
pub const M1: &str = "222233334444";
pub const M2: &str = "333344445555";
/// An account outside the organization.
pub const OUT: &str = "444455556666";
/// The organization's management account.
pub const MGMT: &str = "999988887777";

pub const BUCKET: &str = "central-session-logs-111122223333";
pub const KEY1: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-2222-bbbb-3333-cccc4444dddd";
pub const KEY2: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/5555eeee-6666-ffff-7777-888899990000";
pub const OTHER_KEY: &str =
    "arn:aws:kms:eu-west-1:444455556666:key/9999aaaa-8888-bbbb-7777-cccc6666dddd";

pub fn bucket_arn() -> String {
    format!("arn:aws:s3:::{BUCKET}")
}

pub fn object_arn(key: &str) -> String {
    format!("arn:aws:s3:::{BUCKET}/{key}")
}

/// The organization an account belongs to, if any.
pub fn org_of(account: &str) -> Option<&'static str> {
    match account {
        LOG | M1 | M2 | MGMT => Some(ORG),
        OUT => Some(OTHER_ORG),
        _ => None,
    }
}

fn org_path_of(account: &str) -> Option<String> {
    match account {
        LOG => Some(format!("{ORG}/r-ab12/ou-ab12-33333333/")),
        M1 | M2 => Some(format!("{ORG}/r-ab12/ou-ab12-11111111/")),
        MGMT => Some(format!("{ORG}/r-ab12/")),
        OUT => Some(format!("{OTHER_ORG}/r-zz99/ou-zz99-22222222/")),
        _ => None,
    }
}

/// The caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub arn: String,
    pub account: Option<String>,
    pub org_id: Option<String>,
    pub org_paths: Vec<String>,
    pub tags: Vec<(String, String)>,
}

impl Caller {
    fn in_account(arn: String, account: &str) -> Caller {
        Caller {
            arn,
            account: Some(account.to_string()),
            org_id: org_of(account).map(str::to_string),
            org_paths: org_path_of(account).into_iter().collect(),
            tags: Vec::new(),
        }
    }

    pub fn session(account: &str, role: &str, session: &str) -> Caller {
        Caller::in_account(
            format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            account,
        )
    }

    /// The instance role of the seed, in a member account.
    pub fn instance(account: &str) -> Caller {
        Caller::session(account, "SSMInstanceRole", "i-0123456789abcdef0")
    }

    pub fn user(account: &str, name: &str) -> Caller {
        Caller::in_account(format!("arn:aws:iam::{account}:user/{name}"), account)
    }

    pub fn role(account: &str, name: &str) -> Caller {
        Caller::in_account(format!("arn:aws:iam::{account}:role/{name}"), account)
    }

    pub fn root(account: &str) -> Caller {
        Caller::in_account(format!("arn:aws:iam::{account}:root"), account)
    }

    pub fn service(name: &str) -> Caller {
        Caller {
            arn: name.to_string(),
            account: None,
            org_id: None,
            org_paths: Vec::new(),
            tags: Vec::new(),
        }
    }

    pub fn anonymous() -> Caller {
        Caller::service("anonymous")
    }

    pub fn tag(mut self, key: &str, value: &str) -> Caller {
        self.tags.push((key.to_string(), value.to_string()));
        self
    }

    pub fn no_org(mut self) -> Caller {
        self.org_id = None;
        self.org_paths.clear();
        self
    }

    pub fn is_iam(&self) -> bool {
        self.account.is_some()
    }

    fn to_json(&self) -> Value {
        let mut p = Map::new();
        p.insert("arn".into(), json!(self.arn));
        if let Some(o) = &self.org_id {
            p.insert("orgId".into(), json!(o));
        }
        if !self.org_paths.is_empty() {
            p.insert("orgPaths".into(), json!(self.org_paths));
        }
        let tags: Map<String, Value> = self
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        p.insert("tags".into(), Value::Object(tags));
        p.insert("hasPermissionsBoundary".into(), json!(false));
        Value::Object(p)
    }
}

/// A request with every policy that takes part.
#[derive(Clone, Debug)]
pub struct Req {
    pub caller: Caller,
    pub action: String,
    pub resource: String,
    pub resource_account: String,
    pub resource_tags: Vec<(String, String)>,
    pub context: Map<String, Value>,
    pub identity: Vec<Value>,
    pub boundary: Option<Value>,
    pub scps: Vec<Vec<Value>>,
    pub rcps: Vec<Vec<Value>>,
    pub resource_policy: Option<Value>,
    pub principal_in_mgmt: bool,
    pub resource_in_mgmt: bool,
}

impl Req {
    pub fn new(caller: Caller, action: &str, resource: &str, resource_account: &str) -> Req {
        Req {
            caller,
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: resource_account.to_string(),
            resource_tags: Vec::new(),
            context: Map::new(),
            identity: Vec::new(),
            boundary: None,
            scps: Vec::new(),
            rcps: Vec::new(),
            resource_policy: None,
            principal_in_mgmt: false,
            resource_in_mgmt: false,
        }
    }

    pub fn ctx(mut self, key: &str, value: &str) -> Req {
        self.context.insert(key.to_string(), json!(value));
        self
    }

    pub fn identity(mut self, document: Value) -> Req {
        self.identity.push(document);
        self
    }

    pub fn resource_policy(mut self, document: Value) -> Req {
        self.resource_policy = Some(document);
        self
    }

    pub fn to_json(&self) -> Value {
        let named = |prefix: &str, i: usize, d: &Value| json!({"name": format!("{prefix}{i}"), "document": d});
        let levels = |ls: &[Vec<Value>], kind: &str| -> Value {
            Value::Array(
                ls.iter()
                    .enumerate()
                    .map(|(i, ps)| {
                        let target = match i {
                            0 => "r-ab12".to_string(),
                            n if n + 1 == ls.len() => format!("account-level-{kind}"),
                            n => format!("ou-ab12-{n:08}"),
                        };
                        json!({
                            "target": target,
                            "policies": ps.iter().enumerate()
                                .map(|(j, d)| named(&format!("{kind}-{i}-"), j, d))
                                .collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            )
        };
        let resource_org = org_of(&self.resource_account);
        let resource_tags: Map<String, Value> = self
            .resource_tags
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut resource = Map::new();
        resource.insert("arn".into(), json!(self.resource));
        resource.insert("account".into(), json!(self.resource_account));
        if let Some(o) = resource_org {
            resource.insert("orgId".into(), json!(o));
        }
        resource.insert("tags".into(), Value::Object(resource_tags));
        json!({
            "principal": self.caller.to_json(),
            "action": self.action,
            "resource": Value::Object(resource),
            "context": Value::Object(self.context.clone()),
            "policies": {
                "identity": self.identity.iter().enumerate()
                    .map(|(i, d)| named("identity-", i, d)).collect::<Vec<_>>(),
                "permissionsBoundary": self.boundary.as_ref()
                    .map(|d| json!({"name": "boundary", "document": d})),
                "sessionPolicy": null,
                "scps": levels(&self.scps, "scp"),
                "rcps": levels(&self.rcps, "rcp"),
                "resourcePolicy": self.resource_policy.as_ref()
                    .map(|d| json!({"name": "resource policy", "document": d})),
            },
            "principalInManagementAccount": self.principal_in_mgmt,
            "resourceInManagementAccount": self.resource_in_mgmt,
        })
    }
}

/// A policy document from its statements.
pub fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

pub fn allow(action: impl Into<Value>, resource: impl Into<Value>) -> Value {
    json!({"Effect": "Allow", "Action": action.into(), "Resource": resource.into()})
}

pub fn deny(action: impl Into<Value>, resource: impl Into<Value>) -> Value {
    json!({"Effect": "Deny", "Action": action.into(), "Resource": resource.into()})
}

/// Adds `Principal` (for resource policies).
pub fn with_principal(mut statement: Value, principal: Value) -> Value {
    statement["Principal"] = principal;
    statement
}

pub fn with_condition(mut statement: Value, condition: Value) -> Value {
    statement["Condition"] = condition;
    statement
}

pub fn with_sid(mut statement: Value, sid: &str) -> Value {
    statement["Sid"] = json!(sid);
    statement
}

pub fn full_access() -> Value {
    doc(vec![allow("*", "*")])
}

pub fn rcp_full_access() -> Value {
    doc(vec![with_principal(allow("*", "*"), json!("*"))])
}

/// The seed's instance-role policy, with the bucket and keys of this world.
pub fn seed_role_policy() -> Value {
    doc(vec![
        with_sid(
            allow(
                json!(["s3:PutObject", "s3:PutObjectAcl"]),
                format!("{}/*", bucket_arn()),
            ),
            "PutObjectsBucket",
        ),
        with_sid(
            allow(json!(["s3:GetEncryptionConfiguration"]), bucket_arn()),
            "ListBucketAndEncryptionConfig",
        ),
        with_sid(
            allow(
                json!(["kms:Decrypt", "kms:GenerateDataKey*"]),
                json!([KEY2, KEY1]),
            ),
            "S3KMSSessionManagerKMS",
        ),
    ])
}

/// The seed's bucket policy.
pub fn seed_bucket_policy() -> Value {
    let org = json!({"StringEquals": {"aws:PrincipalOrgID": ORG}});
    doc(vec![
        with_condition(
            with_principal(
                allow("s3:GetEncryptionConfiguration", bucket_arn()),
                json!({"AWS": "*"}),
            ),
            org.clone(),
        ),
        with_condition(
            with_principal(
                allow(
                    json!(["s3:PutObject", "s3:PutObjectAcl"]),
                    format!("{}/*", bucket_arn()),
                ),
                json!({"AWS": "*"}),
            ),
            org,
        ),
    ])
}

/// The seed's key-policy statement, optionally behind the usual key-administrators statement.
pub fn seed_key_policy(with_admins: bool) -> Value {
    let mut statements = Vec::new();
    if with_admins {
        statements.push(with_sid(
            with_principal(
                allow("kms:*", "*"),
                json!({"AWS": format!("arn:aws:iam::{LOG}:root")}),
            ),
            "KeyAdministrators",
        ));
    }
    statements.push(with_condition(
        with_principal(
            allow(json!(["kms:Decrypt", "kms:GenerateDataKey"]), "*"),
            json!({"AWS": "*"}),
        ),
        json!({"StringEquals": {"aws:PrincipalOrgID": ORG}}),
    ));
    doc(statements)
}
