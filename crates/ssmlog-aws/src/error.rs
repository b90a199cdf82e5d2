//! One error type for every AWS failure, carrying where it happened.

use std::fmt;

use aws_sdk_s3::error::ProvideErrorMetadata;

/// An AWS call that failed, with what ssmlog was doing (`account 222233334444: s3:PutBucketPolicy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// What was being done, and where.
    pub context: String,
    /// The AWS error code, when AWS answered.
    pub code: Option<String>,
    /// The message.
    pub message: String,
}

impl AwsError {
    /// An error without an AWS error code (ssmlog's own refusal, a missing resource).
    pub fn new(context: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            context: context.into(),
            code: None,
            message: message.into(),
        }
    }

    /// From any SDK error: its code and message, or the whole error chain when AWS never
    /// answered (connection refused, timeout, no credentials).
    pub fn sdk<E>(context: impl Into<String>, e: &E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = e.code().map(str::to_string);
        let message = match (e.code(), e.message()) {
            (Some(_), Some(m)) => m.to_string(),
            (Some(_), None) => "(AWS gave no message)".to_string(),
            _ => aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
        };
        Self {
            context: context.into(),
            code,
            message,
        }
    }

    /// From an SDK call's error, like [`AwsError::sdk`]; an answer without an error body
    /// (S3 answers HEAD requests, and moto some denials, so) is told by its HTTP status
    /// instead of the whole error chain.
    pub fn from_sdk<E>(context: impl Into<String>, e: &aws_sdk_s3::error::SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let aws_sdk_s3::error::SdkError::ServiceError(s) = e {
            if s.err().code().is_none() && s.err().message().is_none() {
                let status = s.raw().status().as_u16();
                let meaning = match status {
                    403 => " (access denied)",
                    404 => " (not found)",
                    301 => " (the bucket is in another region)",
                    _ => "",
                };
                return Self {
                    context: context.into(),
                    code: None,
                    message: format!("HTTP {status}{meaning}, no error body"),
                };
            }
        }
        Self::sdk(context, e)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{}: {c}: {}", self.context, self.message),
            None => write!(f, "{}: {}", self.context, self.message),
        }
    }
}

impl std::error::Error for AwsError {}

/// The AWS error code of an SDK error, for "not found" answers that mean "absent".
pub(crate) fn code_of<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}
