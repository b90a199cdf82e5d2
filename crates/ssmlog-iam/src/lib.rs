//! ssmlog's IAM engine: reads AWS policies (identity, bucket, key, SCP, RCP), validates them
//! as IAM does, and decides requests across accounts the way AWS does, with the statements
//! that decided and, for a denial, the grant that was missing.
//!
//! No IO and no AWS SDK: text in, values out.
//!
//! ```
//! use ssmlog_iam::{evaluate, EvalInput, Outcome};
//!
//! let input = EvalInput::from_json(r#"{
//!   "principal": {"arn": "arn:aws:iam::222233334444:role/SSMInstanceRole", "orgId": "o-a1b2c3d4e5"},
//!   "action": "s3:GetEncryptionConfiguration",
//!   "resource": {"arn": "arn:aws:s3:::logs", "account": "111122223333"},
//!   "policies": {
//!     "identity": [{"name": "role", "document": {"Version": "2012-10-17", "Statement": [
//!       {"Effect": "Allow", "Action": "s3:GetEncryptionConfiguration", "Resource": "arn:aws:s3:::logs"}]}}],
//!     "resourcePolicy": {"name": "bucket", "document": {"Version": "2012-10-17", "Statement": [
//!       {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetEncryptionConfiguration",
//!        "Resource": "arn:aws:s3:::logs",
//!        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}]}}
//!   }
//! }"#).unwrap();
//! assert_eq!(evaluate(&input).decision, Outcome::Allowed);
//! ```

mod condition;
mod context;
mod diagnostic;
mod eval;
mod input;
pub mod json;
mod lint;
mod pattern;
mod policy;
mod principal;
mod reference;
mod template;

pub use context::Context;
pub use diagnostic::{Diagnostic, Severity};
pub use eval::{
    decide, decide_request, evaluate, evaluate_request, Decision, Gap, Outcome, PolicyRole,
    StatementRef,
};
pub use input::{EvalInput, InputError, OrgLevel, PolicySet, Request};
pub use policy::{validate_policy, Effect, Policy, PolicyKind, Statement};
pub use principal::{CallerKind, RequestPrincipal};
pub use reference::service_reference_source;
