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
    /// What to do about it, when ssmlog knows (`run aws sso login --profile X`).
    pub help: Option<String>,
}

impl AwsError {
    /// An error without an AWS error code (ssmlog's own refusal, a missing resource).
    pub fn new(context: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            context: context.into(),
            code: None,
            message: message.into(),
            help: None,
        }
    }

    /// The same error with `help` (what to do about it).
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// From any SDK error: its code and message, or the whole error chain when AWS never
    /// answered (connection refused, timeout, no credentials).
    pub fn sdk<E>(context: impl Into<String>, e: &E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = e.code().map(str::to_string);
        let (message, help) = match (e.code(), e.message()) {
            (Some(_), Some(m)) => (m.to_string(), None),
            (Some(_), None) => ("(AWS gave no message)".to_string(), None),
            _ => without_answer(&chain(e)),
        };
        Self {
            context: context.into(),
            code,
            message,
            help,
        }
    }

    /// From an SDK call's error, like [`AwsError::sdk`]; an answer without an error body
    /// (S3 answers HEAD requests, and moto some denials, so) is told by its HTTP status
    /// instead of the whole error chain.
    pub fn from_sdk<E>(context: impl Into<String>, e: &aws_sdk_s3::error::SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let aws_sdk_s3::error::SdkError::ResponseError(r) = e {
            let status = r.raw().status().as_u16();
            return Self {
                context: context.into(),
                code: None,
                message: format!("HTTP {status}, and the answer is not an AWS error ({})", chain(e)),
                help: (status >= 500).then(|| "the endpoint failed on its side: re-run; if it persists, the endpoint does not support this call".to_string()),
            };
        }
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
                    help: None,
                };
            }
        }
        Self::sdk(context, e)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{}: {c}: {}", self.context, self.message)?,
            None => write!(f, "{}: {}", self.context, self.message)?,
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// An error and its sources, each by its Display, joined by `: ` (the SDK's
/// `DisplayErrorContext` ends with the whole error's Debug form, which users must not see).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// An SDK error chain where AWS never answered, told in one line with a fix: the chain
/// (`dispatch failure: io error: …: Connection refused (os error 111)`) is what the SDK
/// gives, no Debug dump; the most common causes get their own words.
fn without_answer(chain: &str) -> (String, Option<String>) {
    let lower = chain.to_ascii_lowercase();
    if lower.contains("connection refused") {
        return (
            "connection refused: nothing answers at the endpoint".to_string(),
            Some("check `--endpoint-url` (or the network path to AWS) and that the endpoint is running".to_string()),
        );
    }
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return (
            format!("the endpoint's host name does not resolve ({chain})"),
            Some("check the region name and `--endpoint-url`, and the machine's DNS".to_string()),
        );
    }
    if lower.contains("no credentials")
        || lower.contains("credentials provider")
        || lower.contains("failed to load credentials")
    {
        return (
            "no usable credentials in the credential chain (environment, profile, SSO, web identity, container, instance metadata)".to_string(),
            Some("log in first (`aws sso login --profile NAME`, then pass `--profile NAME`), or set AWS_PROFILE or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables".to_string()),
        );
    }
    if lower.contains("timeout") || lower.contains("timed out") {
        return (
            format!("no answer in time ({chain})"),
            Some("check the network path to the endpoint; re-run to finish".to_string()),
        );
    }
    (chain.to_string(), None)
}

/// AWS's answers when the credentials are not valid in the region called: the usual sign of
/// an opt-in region that is not enabled in that account.
const REGION_DISABLED_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "OptInRequired",
];

/// Names the region of an error met in `account`/`region`, and when AWS's answer means the
/// region is not enabled there (an opt-in region), says so with the fix.
pub(crate) fn in_region(mut e: AwsError, account: &str, region: &str) -> AwsError {
    if !e.context.contains(region) {
        e.context = format!("{} in {region}", e.context);
    }
    if e.code
        .as_deref()
        .is_some_and(|c| REGION_DISABLED_CODES.contains(&c))
        && e.help.is_none()
    {
        e.help = Some(format!(
            "region {region} is probably not enabled in account {account} (an opt-in region): enable it (`aws account enable-region --account-id {account} --region-name {region}`) or leave it out of the config (`regions.exclude`)"
        ));
    }
    e
}

impl std::error::Error for AwsError {}

/// The AWS error code of an SDK error, for "not found" answers that mean "absent".
pub(crate) fn code_of<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_opt_in_region_is_named_with_its_fix() {
        let e = AwsError {
            context: "account 222233334444: ssm:DescribeDocument".into(),
            code: Some("UnrecognizedClientException".into()),
            message: "The security token included in the request is invalid.".into(),
            help: None,
        };
        let e = in_region(e, "222233334444", "ap-east-1");
        let text = e.to_string();
        assert!(
            text.starts_with("account 222233334444: ssm:DescribeDocument in ap-east-1: UnrecognizedClientException: The security token"),
            "{text}"
        );
        assert!(
            text.contains("region ap-east-1 is probably not enabled in account 222233334444"),
            "{text}"
        );
        assert!(text.contains("aws account enable-region"), "{text}");
        // Another failure in a region is named, with no such guess.
        let other = in_region(
            AwsError::new("account 1: ssm:GetDocument", "boom"),
            "1",
            "eu-west-1",
        );
        assert_eq!(
            other.to_string(),
            "account 1: ssm:GetDocument in eu-west-1: boom"
        );
    }

    #[test]
    fn no_answer_is_one_line_with_a_fix() {
        let (m, h) = without_answer("dispatch failure: io error: error trying to connect: tcp connect error: Connection refused (os error 111)");
        assert_eq!(m, "connection refused: nothing answers at the endpoint");
        assert!(h.is_some_and(|h| h.contains("--endpoint-url")));
        let (m, h) =
            without_answer("failed to construct request: no credentials in the property bag");
        assert!(m.starts_with("no usable credentials"), "{m}");
        assert!(h.is_some_and(|h| h.contains("aws sso login --profile")));
    }
}
