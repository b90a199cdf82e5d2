//! Session Manager logs as auditors read them.
//!
//! * [`parse_key`]: what an object key says (account, region, session, user);
//! * [`LogSource`] and [`LocalDir`]: where logs are (a synced copy here, S3 elsewhere);
//! * [`Cleaner`]: raw pty output to the text that was on screen;
//! * [`list_sessions`], [`search`], [`export`]: the `ssmlog logs` commands as functions;
//! * [`gen`]: realistic generated corpora for tests and benchmarks.
//!
//! ```
//! let (text, meta) = ssmlog_logs::clean(b"Script started on 2026-11-23 10:15:00+00:00\n$ echo hi\r\nhi\r\n\nScript done on 2026-11-23 10:16:00+00:00\n");
//! assert_eq!(text, "$ echo hi\nhi\n");
//! assert_eq!(meta.end.map(ssmlog_logs::format_rfc3339).as_deref(), Some("2026-11-23T10:16:00Z"));
//! ```

mod clean;
pub mod gen;
mod key;
mod list;
mod par;
mod search;
mod source;
mod time;

pub use clean::header::{footer_end_time, header_meta, LogKind, SessionMeta};
pub use clean::{clean, kind_of, Cleaner, LINE_CAP};
pub use key::{is_account_id, is_region, parse_key, user_of_session, SessionKey};
pub use list::{
    list_sessions, list_sessions_reporting, Filter, Session, SessionRecord, CLOCK_SKEW,
};
pub use par::default_threads;
pub use search::{
    build_regex, export, export_streaming_above, literal_pattern, printable, search, search_lines,
    search_streaming_above, search_text, ContextLine, ExportRecord, FileMatches, GrepRecord,
    LineMatch, Matcher, SearchOptions, TextCursor, TextStyle, STREAM_ABOVE,
};
pub use source::{Entry, LocalDir, LogSource, SourceError};
pub use time::{format_rfc3339, parse_user_time};
