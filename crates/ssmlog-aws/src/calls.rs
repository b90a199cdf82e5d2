//! Counting AWS calls, so idempotence ("a second apply makes no write call") and the
//! benchmark's call counts are measured, not assumed.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Called with each operation just before it is sent.
pub type CallHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Every AWS call made through one [`crate::Aws`], by `service:Operation`.
#[derive(Default)]
pub struct Calls {
    by_op: Mutex<BTreeMap<String, u64>>,
    hook: Mutex<Option<CallHook>>,
}

impl fmt::Debug for Calls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calls")
            .field("by_op", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl Calls {
    /// Records one call of `op` (`s3:PutBucketPolicy`), about to be sent.
    pub fn record(&self, op: &str) {
        if let Ok(mut m) = self.by_op.lock() {
            *m.entry(op.to_string()).or_default() += 1;
        }
        let hook = self.hook.lock().ok().and_then(|h| h.clone());
        if let Some(h) = hook {
            h(op);
        }
    }

    /// Runs `hook` before every call from now on: the fault tests cut the endpoint at
    /// an exact call this way.
    pub fn set_hook(&self, hook: CallHook) {
        if let Ok(mut h) = self.hook.lock() {
            *h = Some(hook);
        }
    }

    /// Calls per operation so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.by_op.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Calls that change something in AWS.
    pub fn writes(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|(op, _)| is_write(op))
            .map(|(_, n)| n)
            .sum()
    }

    /// Calls that only read (including AssumeRole, which changes nothing).
    pub fn reads(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|(op, _)| !is_write(op))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Whether `service:Operation` changes anything: everything but Get/List/Describe/Head and
/// the STS calls that only hand out credentials or say who you are.
pub fn is_write(op: &str) -> bool {
    let name = op.rsplit(':').next().unwrap_or(op);
    !(["Get", "List", "Describe", "Head"]
        .iter()
        .any(|p| name.starts_with(p))
        || name == "AssumeRole")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        let c = Calls::default();
        for op in [
            "s3:GetBucketPolicy",
            "sts:AssumeRole",
            "sts:GetCallerIdentity",
            "s3:HeadBucket",
            "kms:ListAliases",
            "ssm:DescribeDocument",
        ] {
            c.record(op);
        }
        assert_eq!((c.reads(), c.writes()), (6, 0));
        c.record("s3:PutBucketPolicy");
        c.record("ssm:UpdateDocumentDefaultVersion");
        assert_eq!(c.writes(), 2);
    }
}
