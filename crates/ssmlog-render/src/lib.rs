//! Config and render: one `ssmlog.toml` becomes the whole central-logging setup.
//!
//! [`parse_config`] reads and validates a config, reporting every problem with the field,
//! the value, the fix and the line. [`render`] turns a [`Config`] into the desired
//! [`ssmlog_state::State`] in one of two [`Profile`]s, and [`cloudformation`] turns it into
//! templates. Nothing here does IO.
//!
//! ```
//! let cfg = ssmlog_render::parse_config("ssmlog.toml", ssmlog_render::EXAMPLE_CONFIG)
//!     .map_err(|e| e.to_string())?;
//! let state = ssmlog_render::render(&cfg, ssmlog_render::Profile::Hardened);
//! assert_eq!(state.accounts.len(), 3);
//! # Ok::<(), String>(())
//! ```

mod cfn;
mod config;
mod documents;
mod error;
pub mod guardrails;
pub mod regions;
mod render;
mod validate;

pub use cfn::{
    cloudformation, Templates, LOG_ARCHIVE_TEMPLATE, MEMBER_TEMPLATE, ORGANIZATION_TEMPLATE,
    REPLICA_TEMPLATE,
};
pub use config::*;
pub use error::{ConfigError, ConfigErrors};
pub use render::{
    key_arn, render, replica_name, BUCKET_KEY, MULTI_REGION_KEY_ID_PREFIX,
    PLACEHOLDER_KEY_ID_PREFIX, SESSION_KEY, SSM_CORE_POLICY,
};
pub use validate::{
    check_profile, parse_config, DEFAULT_HOST_MANAGEMENT_ROLE, DEFAULT_KEY_PREFIX,
    DEFAULT_POLICY_NAME,
};

/// The commented example config; `ssmlog init` writes exactly this.
pub const EXAMPLE_CONFIG: &str = include_str!("../../../examples/ssmlog.toml");

/// Which statements render writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// The source article's statements exactly, placeholders filled from the config, so
    /// users can compare with what they already run.
    Seed,
    /// Least privilege: per-account prefixes, SSE-KMS with Key 1 only, TLS only, split
    /// session-key grants.
    Hardened,
}

impl Profile {
    /// The name used on the command line and in `state.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Seed => "seed",
            Profile::Hardened => "hardened",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "seed" => Ok(Profile::Seed),
            "hardened" => Ok(Profile::Hardened),
            other => Err(format!(
                "unknown profile `{other}`: use `hardened` or `seed`"
            )),
        }
    }
}
