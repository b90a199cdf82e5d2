//! ssmlog against live AWS: the only crate that talks to the AWS SDK.
//!
//! [`Aws::connect`] builds clients from the standard credential chain (profiles, SSO,
//! environment) with an optional `--profile`, `--region` and `--endpoint-url`, and reaches
//! each member account by assuming a role into it (default
//! `OrganizationAccountAccessRole`), caching one set of credentials per account.
//! [`pull()`] reads the live [`ssmlog_state::State`]; [`converge`] diffs the desired State
//! against live and, unless it only plans, writes what differs, merging with what users
//! already have (see [`merge`]). Every AWS call is counted in [`Calls`].
//!
//! [`S3Logs`] is the central bucket as an `ssmlog_logs::LogSource`, for `ssmlog logs`.
//!
//! [`verify()`] checks live that the bucket, the keys and every preferences document are as
//! the source documents' verification steps ask, and that logs arrive; [`canary()`] makes
//! the SSM Agent's own calls from each member account.
//!
//! With `[guardrails]`, `converge` also creates and attaches ssmlog's Organizations
//! policies, after proving the deploy roles keep control (a refusal stops it before any
//! write); `verify` checks their attachments and `canary --as-role` tries the calls they
//! must deny (docs/guardrails.md).
//!
//! The merge and lockout rules are pure functions in [`merge`], tested without AWS.

mod calls;
mod canary;
mod canary_guardrails;
mod connect;
mod converge;
mod error;
mod guardrails;
mod live;
mod logs;
pub mod merge;
mod network;
mod org;
mod org_tree;
mod pull;
mod trace;
mod verify;

pub use calls::{is_write, CallHook, Calls};
pub use canary::{
    canary, trust_allows, CallOutcome, CanaryCall, CanaryOptions, CanaryReport, CanaryRow, Cleanup,
    Party, CANARY_PREFIX,
};
pub use canary_guardrails::{classify, GuardrailProbe, ProbeOutcome};
pub use connect::{Aws, ConnectOptions, MemberAccess, DEFAULT_ACCESS_ROLE};
pub use converge::{converge, Action, Change, ConvergeOptions, Failure, Outcome, Progress};
pub use error::AwsError;
pub use logs::{S3Logs, S3_THREADS};
pub use org::{discover, Discovery};
pub use pull::{pull, PullOutcome};
pub use verify::{
    verify, GuardrailRow, NewestLog, Status, Verification, VerifyFinding, VerifyOptions, VerifyRow,
    NOT_CHECKED,
};

/// A tokio runtime for the CLI: the SDK is async, the rest of ssmlog is not.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
