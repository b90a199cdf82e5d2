//! Clients from the standard credential chain, and role assumption into member accounts.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use tokio::sync::OnceCell;

use crate::calls::Calls;
use crate::error::AwsError;
use crate::trace::TraceCalls;

/// The role AWS Organizations creates in every account it creates.
pub const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

/// Which role to assume in which account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAccess {
    /// Role name assumed in every account without an override.
    pub role: String,
    /// Per-account role names (`--access-role-for ACCOUNT=ROLE`).
    pub per_account: BTreeMap<String, String>,
}

impl Default for MemberAccess {
    fn default() -> Self {
        Self {
            role: DEFAULT_ACCESS_ROLE.to_string(),
            per_account: BTreeMap::new(),
        }
    }
}

impl MemberAccess {
    /// The role ARN ssmlog assumes to act in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        let role = self.per_account.get(account).unwrap_or(&self.role);
        let role = role.trim_start_matches('/');
        format!("arn:aws:iam::{account}:role/{role}")
    }
}

/// How to reach AWS: the standard chain plus the usual overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// A named profile of `~/.aws/config` (`--profile`).
    pub profile: Option<String>,
    /// The region of the first client (`--region`); other clients use the config's regions.
    pub region: Option<String>,
    /// Another endpoint for every service (`--endpoint-url`), e.g. a local moto server; S3
    /// then uses path-style addressing.
    pub endpoint_url: Option<String>,
    /// Roles assumed into accounts other than the caller's.
    pub access: MemberAccess,
}

/// One account's config, assumed once; an error is kept so every task reports it.
type AccountCell = OnceCell<Result<SdkConfig, AwsError>>;

/// A connection to AWS: the caller's config and per-account credentials, cached.
pub struct Aws {
    base: SdkConfig,
    options: ConnectOptions,
    /// The account of the credentials ssmlog starts from.
    pub caller_account: String,
    /// Their ARN (`arn:aws:sts::…:assumed-role/…`).
    pub caller_arn: String,
    accounts: Mutex<HashMap<String, Arc<AccountCell>>>,
    /// Every AWS call made, by operation.
    pub calls: Arc<Calls>,
    /// S3 addressed by path: another S3 endpoint was chosen (see [`custom_s3_endpoint`]).
    path_style: bool,
}

/// Whether S3 goes to an endpoint of the user's (`--endpoint-url`, or the SDK's standard
/// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` settings): such servers (moto, MinIO, a local
/// S3) are addressed by path, since their host names carry no bucket subdomains.
fn custom_s3_endpoint(options: &ConnectOptions, base: &SdkConfig) -> bool {
    options.endpoint_url.is_some()
        || base.endpoint_url().is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty())
}

impl Aws {
    /// Loads the credential chain and asks STS who we are, so a bad profile or an expired
    /// SSO session fails here, once, with AWS's words.
    pub async fn connect(options: ConnectOptions) -> Result<Self, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &options.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &options.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &options.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let mut base = loader.load().await;
        if base.region().is_none() {
            // STS, IAM and Organizations need some region; every regional client sets its own.
            base = base
                .into_builder()
                .region(Region::from_static("us-east-1"))
                .build();
        }
        let calls = Arc::new(Calls::default());
        calls.record("sts:GetCallerIdentity");
        let who = sts(&base, "-")
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                first_call_error(
                    AwsError::sdk("sts:GetCallerIdentity (who am I)", &e),
                    &options,
                )
            })?;
        Ok(Self {
            path_style: custom_s3_endpoint(&options, &base),
            base,
            options,
            caller_account: who.account.unwrap_or_default(),
            caller_arn: who.arn.unwrap_or_default(),
            accounts: Mutex::new(HashMap::new()),
            calls,
        })
    }

    /// The principal ssmlog acts as in `account`: the caller itself in its own account
    /// (a role session as its role), else the access role it assumes there. This is the
    /// principal a key policy must not lock out.
    pub fn principal_in(&self, account: &str) -> String {
        if account == self.caller_account {
            crate::merge::caller_principal(&self.caller_arn)
        } else {
            self.options.access.role_arn(account)
        }
    }

    /// Clients for the caller's own account.
    pub fn caller(&self) -> AccountClients {
        self.clients(self.caller_account.clone(), self.base.clone())
    }

    /// Clients acting in `account`: the caller's credentials there, otherwise a session of
    /// the access role, assumed once per account and shared by every task.
    pub async fn account(&self, account: &str) -> Result<AccountClients, AwsError> {
        if account == self.caller_account {
            return Ok(self.caller());
        }
        let cell = {
            let mut map = self
                .accounts
                .lock()
                .map_err(|_| AwsError::new(account, "account cache poisoned"))?;
            map.entry(account.to_string()).or_default().clone()
        };
        let config = cell
            .get_or_init(|| self.assume(account.to_string()))
            .await
            .clone()?;
        Ok(self.clients(account.to_string(), config))
    }

    async fn assume(&self, account: String) -> Result<SdkConfig, AwsError> {
        let role_arn = self.options.access.role_arn(&account);
        let (config, _) =
            assume_role(&self.base, &self.calls, &account, &role_arn, "ssmlog").await?;
        Ok(config)
    }

    fn clients(&self, account: String, config: SdkConfig) -> AccountClients {
        AccountClients {
            account,
            config,
            path_style: self.path_style,
            calls: self.calls.clone(),
        }
    }
}

/// The first call's error, told with what the user chose: the endpoint that refused, the
/// profile that gave no credentials.
fn first_call_error(mut e: AwsError, options: &ConnectOptions) -> AwsError {
    if e.code.is_some() {
        return e;
    }
    if e.message.starts_with("connection refused") {
        let endpoint = options.endpoint_url.clone().unwrap_or_else(|| {
            format!(
                "the AWS STS endpoint of {}",
                options.region.as_deref().unwrap_or("the default region")
            )
        });
        e.message = format!("connection refused by {endpoint}");
    } else if let Some(p) = &options.profile {
        e = e.with_help(format!(
            "profile `{p}` gave no usable credentials: if it is an SSO profile, log in with `aws sso login --profile {p}`; else check that `{p}` is defined in ~/.aws/config"
        ));
    }
    e
}

/// Assumes `role_arn` from `from`: the config acting as the role (its credentials renew
/// themselves, see [`AssumedRole`]), and the session's ARN.
async fn assume_role(
    from: &SdkConfig,
    calls: &Arc<Calls>,
    account: &str,
    role_arn: &str,
    session_name: &str,
) -> Result<(SdkConfig, String), AwsError> {
    let (creds, session_arn) = assume(from, calls, account, role_arn, session_name).await?;
    let provider = AssumedRole {
        from: from.clone(),
        calls: calls.clone(),
        account: account.to_string(),
        role_arn: role_arn.to_string(),
        session_name: session_name.to_string(),
        current: tokio::sync::Mutex::new(creds),
    };
    let config = from
        .clone()
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Ok((config, session_arn))
}

/// One `sts:AssumeRole`: the session's credentials and ARN.
async fn assume(
    from: &SdkConfig,
    calls: &Calls,
    account: &str,
    role_arn: &str,
    session_name: &str,
) -> Result<(Credentials, String), AwsError> {
    calls.record("sts:AssumeRole");
    let out = sts(from, account)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(format!("account {account}: sts:AssumeRole `{role_arn}`"), &e)
                .with_help(format!(
                    "the credentials ssmlog starts from must be allowed to assume `{role_arn}`, and its trust policy must allow them; pass another role with --access-role or --access-role-for {account}=ROLE"
                ))
        })?;
    let session_arn = out
        .assumed_role_user
        .map(|u| u.arn)
        .unwrap_or_else(|| role_arn.to_string());
    let c = out.credentials.ok_or_else(|| {
        AwsError::new(
            format!("account {account}"),
            "AssumeRole returned no credentials",
        )
    })?;
    let expiry = SystemTime::try_from(c.expiration).ok();
    let creds = Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        Some(c.session_token),
        expiry,
        "ssmlog-assume-role",
    );
    Ok((creds, session_arn))
}

/// How long before their expiry assumed-role credentials are renewed: a long apply (1,000
/// accounts) outlives the one-hour default session, and a call signed a moment before
/// expiry can still arrive late.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Whether credentials expiring at `expiry` must be renewed at `now`.
fn needs_renewal(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    expiry.is_some_and(|e| e <= now + RENEW_BEFORE)
}

/// Assumed-role credentials that renew themselves: handed out until [`RENEW_BEFORE`] their
/// expiry, then assumed again (counted like every call).
#[derive(Debug)]
struct AssumedRole {
    from: SdkConfig,
    calls: Arc<Calls>,
    account: String,
    role_arn: String,
    session_name: String,
    current: tokio::sync::Mutex<Credentials>,
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let mut current = self.current.lock().await;
            if needs_renewal(current.expiry(), SystemTime::now()) {
                let (fresh, _) = assume(
                    &self.from,
                    &self.calls,
                    &self.account,
                    &self.role_arn,
                    &self.session_name,
                )
                .await
                .map_err(CredentialsError::provider_error)?;
                *current = fresh;
            }
            Ok(current.clone())
        })
    }
}

/// Client factory for one account; every client counts into the same [`Calls`].
#[derive(Clone)]
pub struct AccountClients {
    /// The account these clients act in.
    pub account: String,
    config: SdkConfig,
    path_style: bool,
    pub(crate) calls: Arc<Calls>,
}

impl AccountClients {
    fn in_region(&self, region: &str) -> SdkConfig {
        self.config
            .clone()
            .into_builder()
            .region(Region::new(region.to_string()))
            .build()
    }

    /// Clients acting as `role_arn` (in this account), assumed with these clients'
    /// credentials under `session_name`; and the session's ARN.
    pub async fn assume_role(
        &self,
        role_arn: &str,
        session_name: &str,
    ) -> Result<(AccountClients, String), AwsError> {
        let (config, arn) = assume_role(
            &self.config,
            &self.calls,
            &self.account,
            role_arn,
            session_name,
        )
        .await?;
        Ok((
            AccountClients {
                account: self.account.clone(),
                config,
                path_style: self.path_style,
                calls: self.calls.clone(),
            },
            arn,
        ))
    }

    /// Records a call about to be made.
    pub(crate) fn count(&self, op: &str) {
        self.calls.record(op);
    }

    /// S3 in `region`; path-style for an endpoint of the user's (moto, MinIO).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.in_region(region))
            .force_path_style(self.path_style)
            .interceptor(TraceCalls::new(&self.account, region))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// KMS in `region`.
    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.in_region(region))
            .interceptor(TraceCalls::new(&self.account, region))
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    /// Systems Manager in `region`.
    pub fn ssm(&self, region: &str) -> aws_sdk_ssm::Client {
        let conf = aws_sdk_ssm::config::Builder::from(&self.in_region(region))
            .interceptor(TraceCalls::new(&self.account, region))
            .build();
        aws_sdk_ssm::Client::from_conf(conf)
    }

    /// EC2 in `region` (VPCs, subnets, route tables, endpoints: read only).
    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.in_region(region))
    }

    /// IAM (global).
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config)
            .interceptor(TraceCalls::new(&self.account, "global"))
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// Organizations (global).
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config)
            .interceptor(TraceCalls::new(&self.account, "global"))
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }
}

/// STS from `config`, its calls traced as made for `account` (`-`: the caller, not yet
/// known).
fn sts(config: &SdkConfig, account: &str) -> aws_sdk_sts::Client {
    let region = config.region().map_or("-", |r| r.as_ref()).to_string();
    let conf = aws_sdk_sts::config::Builder::from(config)
        .interceptor(TraceCalls::new(account, &region))
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_10_credentials_are_renewed_before_they_expire() {
        let now = SystemTime::now();
        assert!(!needs_renewal(None, now));
        assert!(!needs_renewal(Some(now + Duration::from_secs(3600)), now));
        assert!(needs_renewal(Some(now + Duration::from_secs(299)), now));
        assert!(needs_renewal(Some(now - Duration::from_secs(1)), now));
    }

    /// Against moto: credentials about to expire are assumed again (one counted
    /// AssumeRole), fresh ones are handed out as they are.
    #[test]
    fn issue_10_an_expiring_session_assumes_the_role_again() {
        let Some(moto) = ssmlog_moto::Moto::start() else {
            return;
        };
        let Ok(rt) = crate::runtime() else { return };
        rt.block_on(async {
            for (k, v) in ssmlog_moto::ENV {
                std::env::set_var(k, v);
            }
            let from = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::from_static("us-east-1"))
                .endpoint_url(moto.url())
                .load()
                .await;
            let soon = SystemTime::now() + Duration::from_secs(60);
            let provider = AssumedRole {
                from,
                calls: Arc::new(Calls::default()),
                account: "222233334444".into(),
                role_arn: "arn:aws:iam::222233334444:role/OrganizationAccountAccessRole".into(),
                session_name: "ssmlog".into(),
                current: tokio::sync::Mutex::new(Credentials::new(
                    "old",
                    "old",
                    None,
                    Some(soon),
                    "test",
                )),
            };
            let renewed = provider.provide_credentials().await;
            assert!(
                renewed.as_ref().is_ok_and(|c| c.access_key_id() != "old"),
                "{renewed:?}"
            );
            assert!(renewed
                .as_ref()
                .is_ok_and(|c| c.expiry().is_some_and(|e| e > soon)));
            assert_eq!(provider.calls.snapshot().get("sts:AssumeRole"), Some(&1));
            let again = provider.provide_credentials().await;
            assert_eq!(
                again.ok().map(|c| c.access_key_id().to_string()),
                renewed.ok().map(|c| c.access_key_id().to_string())
            );
            assert_eq!(provider.calls.snapshot().get("sts:AssumeRole"), Some(&1));
        });
    }

    #[test]
    fn access_role_per_account() {
        let mut a = MemberAccess::default();
        assert_eq!(
            a.role_arn("222233334444"),
            "arn:aws:iam::222233334444:role/OrganizationAccountAccessRole"
        );
        a.per_account
            .insert("333344445555".into(), "admin/Deployer".into());
        assert_eq!(
            a.role_arn("333344445555"),
            "arn:aws:iam::333344445555:role/admin/Deployer"
        );
    }
}
