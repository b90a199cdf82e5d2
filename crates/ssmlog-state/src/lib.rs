//! The State of central Session Manager logging, and its directory form.
//!
//! A [`State`] is everything that decides whether logging works: organization, keys and key
//! policies, the bucket and its settings, instance roles and their policies, SCPs/RCPs and
//! each account/region's preferences document. `render` produces one from a config, `pull`
//! from AWS, and a directory on disk holds one as reviewable files (see `docs/STATE.md`).
//!
//! The model and [`to_files`]/[`from_files`] are pure; only [`write_dir`] and [`read_dir`]
//! touch the disk.
//!
//! ```
//! use ssmlog_state::{from_files, to_files};
//! # fn demo(state: &ssmlog_state::State) -> Result<(), ssmlog_state::StateError> {
//! let files = to_files(state)?; // path -> canonical bytes
//! assert_eq!(&from_files(&files)?, state);
//! # Ok(()) }
//! ```

mod canonical;
mod dir;
mod error;
mod files;
pub mod layout;
mod model;

pub use canonical::{sorted, to_string as to_canonical_string, to_vec as to_canonical_vec};
pub use dir::{read_dir, write_dir, write_tree, WriteError};
pub use error::StateError;
pub use files::{from_files, manifest_file, to_files, write_manifest, Files};
pub use model::*;
