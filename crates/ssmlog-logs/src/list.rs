//! `ssmlog logs ls` as a function: list, filter by key and time, sort newest first.

use serde::{Deserialize, Serialize};

use crate::clean::header::{footer_end_time, header_meta, LogKind};
use crate::key::{parse_key, SessionKey};
use crate::par::par_map;
use crate::source::{LogSource, SourceError};
use crate::time::format_rfc3339;

/// Which sessions a command looks at. Empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only keys under this prefix are listed (saves listing a whole bucket).
    pub prefix: String,
    /// Account id, exactly.
    pub account: Option<String>,
    /// Region, exactly.
    pub region: Option<String>,
    /// User (the session id before its hex suffix), ignoring case.
    pub user: Option<String>,
    /// Session id or a prefix of it.
    pub session: Option<String>,
    /// Sessions that ended at or after this time (Unix seconds). Logs uploaded more than
    /// [`CLOCK_SKEW`] before it are passed over without being read: a session ends before its
    /// log is uploaded.
    pub since: Option<i64>,
    /// Sessions that started at or before this time (Unix seconds).
    pub until: Option<i64>,
}

impl Filter {
    fn has_times(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a key passes the key filters (account, region, user, session).
    pub fn matches_key(&self, k: &SessionKey) -> bool {
        let eq = |want: &Option<String>, got: &Option<String>| match want {
            None => true,
            Some(w) => got.as_deref() == Some(w.as_str()),
        };
        eq(&self.account, &k.account)
            && eq(&self.region, &k.region)
            && self.user.as_ref().is_none_or(|u| {
                k.user
                    .as_deref()
                    .is_some_and(|got| got.eq_ignore_ascii_case(u))
            })
            && self
                .session
                .as_ref()
                .is_none_or(|s| k.session.starts_with(s.as_str()))
    }
}

/// A listed session log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// What the key says.
    pub key: SessionKey,
    /// Stored size in bytes.
    pub size: u64,
    /// Upload time (Unix seconds), about the session's end.
    pub last_modified: Option<i64>,
    /// Start time from the header, when read.
    pub start: Option<i64>,
    /// End time from the footer, when read.
    pub end: Option<i64>,
    /// Linux `script` log or PowerShell transcript, when read.
    pub kind: LogKind,
}

/// One session in `ssmlog logs ls --format json` (`{"sessions": [...]}`); times are RFC 3339
/// UTC or null.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRecord {
    /// Object key.
    pub key: String,
    /// Account id from the key.
    pub account: Option<String>,
    /// Region from the key.
    pub region: Option<String>,
    /// Session id.
    pub session: String,
    /// User from the session id.
    pub user: Option<String>,
    /// `script`, `powershell` or `unknown`.
    pub kind: String,
    /// Start time from the header.
    pub start: Option<String>,
    /// End time from the footer, else the upload time.
    pub end: Option<String>,
    /// Stored size in bytes.
    pub size: u64,
}

impl Session {
    /// The end: the footer's time, else the upload time.
    pub fn end_time(&self) -> Option<i64> {
        self.end.or(self.last_modified)
    }

    /// The time sessions are sorted and filtered by: start, else end.
    pub fn start_time(&self) -> Option<i64> {
        self.start.or_else(|| self.end_time())
    }

    /// The JSON form.
    pub fn record(&self) -> SessionRecord {
        SessionRecord {
            key: self.key.key.clone(),
            account: self.key.account.clone(),
            region: self.key.region.clone(),
            session: self.key.session.clone(),
            user: self.key.user.clone(),
            kind: match self.kind {
                LogKind::Script => "script",
                LogKind::Powershell => "powershell",
                LogKind::Unknown => "unknown",
            }
            .to_string(),
            start: self.start.map(format_rfc3339),
            end: self.end_time().map(format_rfc3339),
            size: self.size,
        }
    }
}

/// How far an instance's clock (which writes a log's footer time) may run ahead of the
/// storage's (which stamps its upload time) for `since` to pass over logs by upload time.
pub const CLOCK_SKEW: i64 = 24 * 3600;

const HEAD_BYTES: u64 = 1024;
const TAIL_BYTES: u64 = 512;

/// Lists the sessions of `source` that pass `filter`, newest first. With `read_times` (or
/// time filters) the first and last bytes of each candidate are read for start and end times,
/// on `threads` threads; with `since`, only of logs uploaded after `since - CLOCK_SKEW`.
pub fn list_sessions(
    source: &dyn LogSource,
    filter: &Filter,
    read_times: bool,
    threads: usize,
) -> Result<Vec<Session>, SourceError> {
    let mut first = None;
    let found = list_sessions_reporting(source, filter, read_times, threads, &mut |e| {
        first.get_or_insert(e);
    })?;
    first.map_or(Ok(found), Err)
}

/// [`list_sessions`], with problems (a part of the source that cannot be listed, a log whose
/// times cannot be read, which is then left out) going to `problem` while the rest is listed
/// (see [`LogSource::list_reporting`]).
pub fn list_sessions_reporting(
    source: &dyn LogSource,
    filter: &Filter,
    read_times: bool,
    threads: usize,
    problem: &mut dyn FnMut(SourceError),
) -> Result<Vec<Session>, SourceError> {
    let mut found = Vec::new();
    source.list_reporting(
        &filter.prefix,
        &mut |e| {
            if let Some(key) = parse_key(&e.key) {
                if filter.matches_key(&key) {
                    found.push(Session {
                        key,
                        size: e.size,
                        last_modified: e.last_modified,
                        start: None,
                        end: None,
                        kind: LogKind::Unknown,
                    });
                }
            }
        },
        problem,
    )?;
    if let Some(since) = filter.since {
        // Saves reading the times of every older log in the bucket (two ranged GETs each).
        found.retain(|s| s.last_modified.is_none_or(|up| up >= since - CLOCK_SKEW));
    }
    if read_times || filter.has_times() {
        let times = par_map(&found, threads, |s| read_times_of(source, s));
        let mut readable = Vec::with_capacity(found.len());
        for (mut s, t) in found.into_iter().zip(times) {
            match t {
                Ok((kind, start, end)) => {
                    s.kind = kind;
                    s.start = start;
                    s.end = end;
                    readable.push(s);
                }
                Err(e) => problem(e),
            }
        }
        found = readable;
    }
    found.retain(|s| {
        filter
            .since
            .is_none_or(|since| s.end_time().is_some_and(|e| e >= since))
            && filter
                .until
                .is_none_or(|until| s.start_time().is_some_and(|t| t <= until))
    });
    found.sort_by(|a, b| {
        b.start_time()
            .cmp(&a.start_time())
            .then_with(|| a.key.key.cmp(&b.key.key))
    });
    Ok(found)
}

type Times = (LogKind, Option<i64>, Option<i64>);

fn read_times_of(source: &dyn LogSource, s: &Session) -> Result<Times, SourceError> {
    let head = source.read_range(&s.key.key, 0, HEAD_BYTES)?;
    let meta = header_meta(&head);
    let end = if s.size <= HEAD_BYTES {
        footer_end_time(&head)
    } else {
        let from = s.size.saturating_sub(TAIL_BYTES);
        footer_end_time(&source.read_range(&s.key.key, from, TAIL_BYTES)?)
    };
    Ok((meta.kind, meta.start, end))
}
