//! One `tracing` event per AWS call (target `ssmlog::aws`, level INFO): the account it was
//! made in, the region, the operation (`s3:PutBucketPolicy`), the outcome, the HTTP status
//! and how long it took. `ssmlog -v` and `RUST_LOG` show them on stderr; without a
//! subscriber they cost nothing. The SDK's own events (retries, credentials, endpoints) are
//! under its targets (`aws_smithy_runtime`, `aws_config`, ...), shown with `-vvv`.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The interceptor on every client ssmlog builds.
#[derive(Debug, Clone)]
pub(crate) struct TraceCalls {
    account: String,
    region: String,
}

impl TraceCalls {
    /// Calls made in `account` (`-` before the caller is known) and `region` (`global` for
    /// IAM and Organizations).
    pub(crate) fn new(account: &str, region: &str) -> Self {
        TraceCalls {
            account: account.to_string(),
            region: region.to_string(),
        }
    }
}

/// When the call started (kept in the call's config bag).
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for TraceCalls {
    fn name(&self) -> &'static str {
        "ssmlog-trace-calls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: "ssmlog::aws", tracing::Level::INFO) {
            cfg.interceptor_state().store_put(Started(Instant::now()));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(target: "ssmlog::aws", tracing::Level::INFO) {
            return Ok(());
        }
        let operation = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", service_prefix(m.service()), m.name()))
            .unwrap_or_else(|| "?".to_string());
        let ms = cfg
            .load::<Started>()
            .map_or(0, |s| s.0.elapsed().as_millis() as u64);
        let status = context.response().map(|r| r.status().as_u16());
        let outcome = match context.output_or_error() {
            Some(Ok(_)) => "ok",
            Some(Err(e)) if e.is_operation_error() => "service-error",
            Some(Err(e)) if e.is_timeout_error() => "timeout",
            Some(Err(e)) if e.is_connector_error() => "connection-error",
            _ => "error",
        };
        tracing::info!(
            target: "ssmlog::aws",
            account = %self.account,
            region = %self.region,
            operation = %operation,
            outcome,
            status,
            ms,
            "AWS call"
        );
        Ok(())
    }
}

/// The IAM prefix of an SDK service name (`S3` → `s3`, `Organizations` → `organizations`).
fn service_prefix(service: &str) -> String {
    service.to_ascii_lowercase()
}
