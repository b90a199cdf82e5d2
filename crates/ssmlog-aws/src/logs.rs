//! The central bucket as a [`LogSource`]: `ssmlog logs` reading S3 directly.
//!
//! Listing is ListObjectsV2 page by page, one level with a delimiter and then each
//! sub-prefix (account) in parallel; reading is GetObject with the body streamed (S3
//! decrypts SSE-KMS objects for a caller the key policy allows `kms:Decrypt`); headers and
//! footers come from ranged GETs. The trait is synchronous and is called from plain worker
//! threads, so every call is one `block_on` on a shared tokio runtime handle: the worker
//! waits for its own download while the runtime's threads drive the HTTP connections.
//! `ssmlog logs grep` runs many such workers (see [`S3_THREADS`]), so downloads overlap
//! each other and the cleaning and matching of logs already downloaded.
//!
//! Memory stays bounded by the workers: a worker holds one log at a time, and
//! [`LogSource::open`] streams the body chunk by chunk, so `show` never holds a whole log.

use std::io::Read;
use std::sync::Arc;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use ssmlog_logs::{Entry, LogSource, SourceError};
use tokio::runtime::Handle;

use crate::calls::Calls;
use crate::connect::Aws;

/// Worker threads `ssmlog logs` uses on S3 when not told: a GET waits mostly on the network
/// (and on S3's KMS decrypt), so many more requests than cores are in flight at once.
pub const S3_THREADS: usize = 32;

/// Sub-prefixes listed at once.
const LIST_CONCURRENCY: usize = 16;

type ListError = SdkError<aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error, HttpResponse>;

/// Every page of ListObjectsV2 under `prefix`: the objects, and with `delimiter` (`/`) the
/// sub-prefixes one level down instead of what is under them.
async fn list_pages(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    delimiter: bool,
    calls: &Calls,
) -> Result<(Vec<Entry>, Vec<String>), ListError> {
    let (mut entries, mut subs) = (Vec::new(), Vec::new());
    let mut token: Option<String> = None;
    loop {
        calls.record("s3:ListObjectsV2");
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.then(|| "/".to_string()))
            .set_continuation_token(token.take())
            .send()
            .await?;
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            entries.push(Entry {
                key: key.to_string(),
                size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                last_modified: o.last_modified().map(|t| t.secs()),
            });
        }
        subs.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return Ok((entries, subs)),
        }
    }
}

/// A bucket of session logs on S3 (or an S3-compatible endpoint such as moto).
pub struct S3Logs {
    client: aws_sdk_s3::Client,
    bucket: String,
    region: String,
    caller_arn: String,
    handle: Handle,
    calls: Arc<Calls>,
}

impl S3Logs {
    /// Opens `bucket` with the caller's credentials. HeadBucket checks it exists and is
    /// readable and finds its region (the agent does the same), so the clients talk to the
    /// bucket's own region whatever `region` (`--region`, default us-east-1) says. Must run inside the tokio runtime whose
    /// handle later calls use.
    pub async fn connect(
        aws: &Aws,
        bucket: &str,
        region: Option<&str>,
    ) -> Result<Self, SourceError> {
        let clients = aws.caller();
        let configured = region.unwrap_or("us-east-1").to_string();
        let what = format!("s3://{bucket}");
        clients.count("s3:HeadBucket");
        let head = clients.s3(&configured).head_bucket().bucket(bucket).send();
        let region = match head.await {
            Ok(out) => out.bucket_region().unwrap_or(&configured).to_string(),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let moved = e
                    .raw_response()
                    .and_then(|r| r.headers().get("x-amz-bucket-region"))
                    .map(str::to_string);
                match (status, moved) {
                    (Some(301 | 307 | 400), Some(r)) if r != configured => r,
                    (Some(404), _) => {
                        return Err(SourceError::new(what, "no such bucket").with_help(
                            "check the name: `aws s3 ls` lists the buckets of these credentials",
                        ))
                    }
                    (Some(403), _) => {
                        return Err(SourceError::new(what, "access denied (s3:ListBucket)")
                            .with_help(format!(
                                "allow `s3:ListBucket` on `arn:aws:s3:::{bucket}` for `{}`, in its \
                                 identity policy and, from another account, in the bucket policy",
                                aws.caller_arn
                            )))
                    }
                    _ => return Err(s3_error(&what, "HeadBucket", &e, bucket, &aws.caller_arn)),
                }
            }
        };
        Ok(Self {
            client: clients.s3(&region),
            bucket: bucket.to_string(),
            region,
            caller_arn: aws.caller_arn.clone(),
            handle: Handle::current(),
            calls: aws.calls.clone(),
        })
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The bucket's region, as HeadBucket reported it.
    pub fn region(&self) -> &str {
        &self.region
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn error<E>(&self, key: &str, op: &str, e: &SdkError<E, HttpResponse>) -> SourceError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        s3_error(&self.url(key), op, e, &self.bucket, &self.caller_arn)
    }

    /// GetObject, with an optional `Range` header; returns the body stream.
    async fn get(&self, key: &str, range: Option<String>) -> Result<ByteStream, SourceError> {
        self.calls.record("s3:GetObject");
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range)
            .send()
            .await
            .map_err(|e| self.error(key, "GetObject", &e))?;
        Ok(out.body)
    }

    async fn read_body(
        &self,
        key: &str,
        mut body: ByteStream,
        buf: &mut Vec<u8>,
    ) -> Result<(), SourceError> {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                SourceError::new(self.url(key), format!("download interrupted: {e}"))
                    .with_help("run the command again; a network or endpoint problem")
            })?;
            buf.extend_from_slice(&chunk);
        }
        Ok(())
    }
}

/// A user-facing error from an S3 call: what failed, AWS's code and message, and a fix.
fn s3_error<E>(
    what: &str,
    op: &str,
    e: &SdkError<E, HttpResponse>,
    bucket: &str,
    caller: &str,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.code().unwrap_or_default();
    let message = e.message().unwrap_or_default();
    let status = e.raw_response().map(|r| r.status().as_u16());
    let detail = match (code, message) {
        ("", "") => match status {
            Some(s) => format!("s3:{op} failed with HTTP {s}"),
            None => format!("s3:{op} failed: {}", crate::error::chain(e)),
        },
        (c, "") => format!("s3:{op}: {c}"),
        ("", m) => format!("s3:{op}: {m}"),
        (c, m) => format!("s3:{op}: {c}: {m}"),
    };
    let kms = code.starts_with("KMS") || message.contains("kms:") || message.contains("KMS");
    let help = match code {
        _ if kms => Some(format!(
            "the object is encrypted with a KMS key (SSE-KMS): its key policy must allow \
             `kms:Decrypt` for `{caller}` (IAM policies alone cannot grant a key of another \
             account), and the key must be enabled; `aws s3api head-object --bucket {bucket} \
             --key KEY` names the key"
        )),
        "AccessDenied" | "Forbidden" if op == "ListObjectsV2" => Some(format!(
            "allow `s3:ListBucket` on `arn:aws:s3:::{bucket}` for `{caller}`, in its identity \
             policy and, from another account, in the bucket policy"
        )),
        "AccessDenied" | "Forbidden" => Some(format!(
            "allow `s3:GetObject` on `arn:aws:s3:::{bucket}/*` for `{caller}`, in its identity \
             policy and, from another account, in the bucket policy; for SSE-KMS objects the \
             key policy must also allow it `kms:Decrypt`"
        )),
        "NoSuchBucket" => {
            Some("check the name: `aws s3 ls` lists the buckets of these credentials".into())
        }
        "NoSuchKey" => Some("the object was deleted after it was listed".into()),
        "PermanentRedirect" | "AuthorizationHeaderMalformed" => {
            Some("the bucket is in another region: pass `--bucket-region` with its region".into())
        }
        "InvalidObjectState" => Some(
            "the object is archived (Glacier or Deep Archive): restore it with \
             `aws s3api restore-object` first"
                .into(),
        ),
        "ExpiredToken" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" => Some(
            "refresh the credentials (`aws sso login`, or check --profile and the environment)"
                .into(),
        ),
        "" if status.is_none() => Some(
            "check the network and `--endpoint-url`; `aws s3 ls s3://BUCKET` should work too"
                .into(),
        ),
        _ => None,
    };
    let err = SourceError::new(what, detail);
    match help {
        Some(h) => err.with_help(h),
        None => err,
    }
}

impl LogSource for S3Logs {
    fn describe(&self) -> String {
        format!("s3://{}", self.bucket)
    }

    fn list(&self, prefix: &str, each: &mut dyn FnMut(Entry)) -> Result<(), SourceError> {
        // One level first, with a delimiter: the objects right under `prefix` and its
        // sub-prefixes (the accounts, at the top of the hardened layout). The sub-prefixes are
        // then listed in parallel: a bucket of millions of logs is thousands of pages, which
        // one after another would take minutes before the first log is read.
        let (direct, subs) = self
            .handle
            .block_on(list_pages(
                &self.client,
                &self.bucket,
                prefix,
                true,
                &self.calls,
            ))
            .map_err(|e| self.error(prefix, "ListObjectsV2", &e))?;
        direct.into_iter().for_each(&mut *each);
        let listed = self.handle.block_on(async {
            let permits = Arc::new(tokio::sync::Semaphore::new(LIST_CONCURRENCY));
            let mut tasks = tokio::task::JoinSet::new();
            for sub in subs {
                let (client, bucket) = (self.client.clone(), self.bucket.clone());
                let (calls, permits) = (self.calls.clone(), permits.clone());
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    let r = list_pages(&client, &bucket, &sub, false, &calls).await;
                    (sub, r)
                });
            }
            let mut listed = Vec::new();
            while let Some(done) = tasks.join_next().await {
                listed.push(done);
            }
            listed
        });
        for done in listed {
            let (sub, r) = done.map_err(|e| SourceError::new(prefix, e.to_string()))?;
            let (entries, _) = r.map_err(|e| self.error(&sub, "ListObjectsV2", &e))?;
            entries.into_iter().for_each(&mut *each);
        }
        Ok(())
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let body = self.handle.block_on(self.get(key, None))?;
        Ok(Box::new(BodyReader {
            source: self,
            key: key.to_string(),
            body,
            chunk: bytes::Bytes::new(),
        }))
    }

    fn read_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, SourceError> {
        let mut buf = Vec::new();
        if len == 0 {
            return Ok(buf);
        }
        let range = format!("bytes={start}-{}", start.saturating_add(len - 1));
        let r = self.handle.block_on(async {
            let body = self.get(key, Some(range)).await?;
            self.read_body(key, body, &mut buf).await
        });
        match r {
            Ok(()) => Ok(buf),
            // An empty object, or a start past the end: nothing there.
            Err(e) if e.message.contains("InvalidRange") => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    fn read_into(&self, key: &str, size: u64, buf: &mut Vec<u8>) -> Result<(), SourceError> {
        buf.clear();
        buf.reserve(usize::try_from(size).unwrap_or(0));
        self.handle.block_on(async {
            let body = self.get(key, None).await?;
            self.read_body(key, body, buf).await
        })
    }
}

/// A GetObject body read chunk by chunk as it arrives: `show` on a large log holds one
/// chunk, not the log.
struct BodyReader<'a> {
    source: &'a S3Logs,
    key: String,
    body: ByteStream,
    chunk: bytes::Bytes,
}

impl Read for BodyReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.source.handle.block_on(self.body.next()) {
                None => return Ok(0),
                Some(Ok(c)) => self.chunk = c,
                Some(Err(e)) => {
                    return Err(std::io::Error::other(format!(
                        "{}: download interrupted: {e}",
                        self.source.url(&self.key)
                    )))
                }
            }
        }
        let n = out.len().min(self.chunk.len());
        let taken = self.chunk.split_to(n);
        out.get_mut(..n)
            .ok_or_else(|| std::io::Error::other("short buffer"))?
            .copy_from_slice(&taken);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failure is the report")]

    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::primitives::SdkBody;

    use super::*;

    /// What S3 answers: an error code and message with an HTTP status (moto enforces no
    /// policy, so denials are built here).
    fn answer(status: u16, code: &str, message: &str) -> SdkError<GetObjectError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(GetObjectError::generic(meta), raw)
    }

    const CALLER: &str = "arn:aws:sts::111122223333:assumed-role/Auditor/jane";

    fn error(op: &str, status: u16, code: &str, message: &str) -> SourceError {
        s3_error(
            "s3://logs/222233334444/eu-west-1/alice-0a1b2c3d4e5f67890.log",
            op,
            &answer(status, code, message),
            "logs",
            CALLER,
        )
    }

    #[test]
    fn kms_denial_names_the_key_policy_and_the_caller() {
        let e = error(
            "GetObject",
            403,
            "AccessDenied",
            "User: arn:aws:sts::111122223333:assumed-role/Auditor/jane is not authorized to \
             perform: kms:Decrypt on the resource associated with this ciphertext because the \
             resource does not exist in this Region, no resource-based policies allow access, \
             or a resource-based policy explicitly denies access",
        );
        assert_eq!(
            e.what,
            "s3://logs/222233334444/eu-west-1/alice-0a1b2c3d4e5f67890.log"
        );
        assert!(e.message.starts_with("s3:GetObject: AccessDenied: User:"));
        let help = e.help.unwrap();
        assert!(
            help.contains("key policy must allow `kms:Decrypt`"),
            "{help}"
        );
        assert!(help.contains(CALLER), "{help}");
        let e = error("GetObject", 400, "KMS.DisabledException", "key is disabled");
        assert!(e.help.unwrap().contains("the key must be enabled"));
    }

    #[test]
    fn s3_denials_and_missing_things() {
        let e = error("GetObject", 403, "AccessDenied", "Access Denied");
        let help = e.help.unwrap();
        assert!(
            help.contains("`s3:GetObject` on `arn:aws:s3:::logs/*`"),
            "{help}"
        );
        let e = error("ListObjectsV2", 403, "AccessDenied", "Access Denied");
        assert!(e
            .help
            .unwrap()
            .contains("`s3:ListBucket` on `arn:aws:s3:::logs`"));
        let e = error(
            "ListObjectsV2",
            404,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
        assert_eq!(
            e.message,
            "s3:ListObjectsV2: NoSuchBucket: The specified bucket does not exist"
        );
        assert!(e.help.unwrap().contains("aws s3 ls"));
        let e = error("GetObject", 301, "PermanentRedirect", "");
        assert_eq!(e.message, "s3:GetObject: PermanentRedirect");
        assert!(e.help.unwrap().contains("--bucket-region"));
        let e = error("GetObject", 500, "", "");
        assert_eq!(
            (e.message.as_str(), e.help),
            ("s3:GetObject failed with HTTP 500", None)
        );
    }
}
