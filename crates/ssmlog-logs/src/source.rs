//! Where logs come from: the [`LogSource`] trait and its local-directory implementation.
//!
//! A source lists entries (key, size, last-modified) and opens an entry's bytes. The trait is
//! object-safe and uses no IO type beyond [`std::io::Read`], so the S3 implementation can live
//! in the crate that owns the AWS SDK while search and listing stay here.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One stored object: enough to filter and sort before reading any bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The object key, `/`-separated, relative to the source's root.
    pub key: String,
    /// Size in bytes as stored.
    pub size: u64,
    /// Last-modified time in Unix seconds: the upload time, so about the session's end.
    pub last_modified: Option<i64>,
}

/// A failure to list or read, naming the object or path and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    /// The key, path or source the error is about.
    pub what: String,
    /// What went wrong, lowercase, no trailing period.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
}

impl SourceError {
    /// An error about `what` with a message and no help.
    pub fn new(what: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a hint for the user.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.what, self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

/// A place holding session logs: a local copy of the bucket here, S3 in the AWS crate.
pub trait LogSource: Send + Sync {
    /// A short name for messages: `directory /srv/logs`, `s3://bucket`.
    fn describe(&self) -> String;

    /// Calls `each` for every object whose key starts with `prefix` (`""` for all), in any
    /// order. Implementations may skip objects that cannot be session logs.
    fn list(&self, prefix: &str, each: &mut dyn FnMut(Entry)) -> Result<(), SourceError>;

    /// [`list`](Self::list), but a problem with one part of the source (an unreadable
    /// directory, a link that is broken or loops, a file name that is not UTF-8) goes to
    /// `problem` and the listing goes on; an error is returned only when nothing can be
    /// listed.
    fn list_reporting(
        &self,
        prefix: &str,
        each: &mut dyn FnMut(Entry),
        problem: &mut dyn FnMut(SourceError),
    ) -> Result<(), SourceError> {
        let _ = problem;
        self.list(prefix, each)
    }

    /// The stored bytes of one object, as a stream.
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, SourceError>;

    /// Up to `len` bytes from offset `start` (a ranged GET on S3); used to read `script`
    /// headers and footers without fetching whole logs.
    fn read_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, SourceError> {
        let mut r = self.open(key)?;
        std::io::copy(&mut r.by_ref().take(start), &mut std::io::sink())
            .map_err(|e| SourceError::new(key, format!("cannot read: {e}")))?;
        let mut buf = Vec::new();
        r.take(len)
            .read_to_end(&mut buf)
            .map_err(|e| SourceError::new(key, format!("cannot read: {e}")))?;
        Ok(buf)
    }

    /// All bytes of one object, replacing the contents of `buf` (whose capacity searches
    /// reuse from log to log); `size` is a capacity hint.
    fn read_into(&self, key: &str, size: u64, buf: &mut Vec<u8>) -> Result<(), SourceError> {
        buf.clear();
        buf.reserve(usize::try_from(size).unwrap_or(0));
        self.open(key)?
            .read_to_end(buf)
            .map_err(|e| SourceError::new(key, format!("cannot read: {e}")))?;
        Ok(())
    }
}

/// A local copy of the bucket, as `aws s3 sync s3://BUCKET DIR` lays it out: one file per
/// object, keys as relative paths. File modification times stand in for last-modified (sync
/// sets them from S3).
///
/// Symbolic links are not followed (as ripgrep), unless [`follow_links`](Self::follow_links)
/// is set; then a link that loops back to a directory above it or points nowhere is reported
/// as a problem (see [`LogSource::list_reporting`]).
#[derive(Clone, Debug)]
pub struct LocalDir {
    root: PathBuf,
    follow: bool,
}

/// A file found by [`LocalDir::walk`]: its key, path and `stat`.
type Found = (String, PathBuf, std::io::Result<std::fs::Metadata>);

impl LocalDir {
    /// A source over `root`; fails when it is not a readable directory.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, SourceError> {
        let root = root.into();
        match std::fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(Self {
                root,
                follow: false,
            }),
            Ok(_) => Err(
                SourceError::new(root.display().to_string(), "not a directory")
                    .with_help("pass the directory `aws s3 sync s3://BUCKET DIR` wrote"),
            ),
            Err(e) => Err(SourceError::new(
                root.display().to_string(),
                format!("cannot open: {e}"),
            )
            .with_help(
                "download a copy with `aws s3 sync s3://BUCKET DIR`, then pass `--dir DIR`",
            )),
        }
    }

    /// Follows symbolic links (`--follow`).
    pub fn follow_links(mut self, follow: bool) -> Self {
        self.follow = follow;
        self
    }

    /// The directory this source reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, SourceError> {
        if key.split('/').any(|s| s == ".." || s.is_empty()) && !key.is_empty() {
            return Err(SourceError::new(key, "not a key of this directory"));
        }
        Ok(self.root.join(key))
    }

    /// Collects the files under `dir` whose keys start with `prefix`, in key order, with
    /// their paths and metadata (directories are told from files without a `stat`, by the
    /// entry's type; a file's `stat` is relative to its directory). `ancestors` are the
    /// canonical paths of the directories above (to tell a link loop); problems go to
    /// `problem` and the walk goes on. The root's entries (accounts) are walked on as many
    /// threads as there are cores, the `stat` of every file being most of a listing's time;
    /// files and problems come out in the same order either way.
    fn walk(
        &self,
        dir: &Path,
        rel: &str,
        prefix: &str,
        ancestors: &mut Vec<PathBuf>,
        files: &mut Vec<Found>,
        problem: &mut dyn FnMut(SourceError),
    ) {
        let cannot_list = |e: std::io::Error| {
            SourceError::new(dir.display().to_string(), format!("cannot list: {e}"))
                .with_help("check the directory's permissions; the rest is listed")
        };
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => return problem(cannot_list(e)),
        };
        let mut names = Vec::new();
        for ent in rd {
            match ent {
                Ok(ent) => names.push(ent),
                Err(e) => {
                    problem(cannot_list(e));
                    break;
                }
            }
        }
        names.sort_by_key(|e| e.file_name());
        if rel.is_empty() && names.len() > 1 {
            let above: &Vec<PathBuf> = ancestors;
            let parts = crate::par::par_map(&names, crate::par::default_threads(), |ent| {
                let (mut found, mut problems) = (Vec::new(), Vec::new());
                let mut ancestors = above.clone();
                self.walk_entry(ent, rel, prefix, &mut ancestors, &mut found, &mut |e| {
                    problems.push(e);
                });
                (found, problems)
            });
            for (found, problems) in parts {
                files.extend(found);
                problems.into_iter().for_each(&mut *problem);
            }
            return;
        }
        for ent in &names {
            self.walk_entry(ent, rel, prefix, ancestors, files, problem);
        }
    }

    /// [`walk`](Self::walk) for one entry of a directory.
    fn walk_entry(
        &self,
        ent: &std::fs::DirEntry,
        rel: &str,
        prefix: &str,
        ancestors: &mut Vec<PathBuf>,
        files: &mut Vec<Found>,
        problem: &mut dyn FnMut(SourceError),
    ) {
        let name = ent.file_name();
        let path = ent.path();
        let Some(name) = name.to_str() else {
            problem(
                SourceError::new(path.display().to_string(), "file name is not UTF-8")
                    .with_help("no S3 key has such a name: rename the file or remove it"),
            );
            return;
        };
        if name.starts_with('.') {
            return;
        }
        let key = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        // Only descend where the prefix can still match.
        if !(key.starts_with(prefix) || prefix.starts_with(&key)) {
            return;
        }
        // A file's `stat`: through the link, or by path when the entry's type is not known;
        // otherwise relative to its directory, below.
        let (is_dir, meta) = match ent.file_type() {
            Ok(t) if t.is_symlink() => {
                if !self.follow {
                    return;
                }
                match std::fs::metadata(&path) {
                    Ok(m) => (m.is_dir(), Some(Ok(m))),
                    Err(e) => {
                        problem(
                            SourceError::new(
                                path.display().to_string(),
                                format!("broken symbolic link: {e}"),
                            )
                            .with_help("fix or remove the link; the rest is listed"),
                        );
                        return;
                    }
                }
            }
            Ok(t) => (t.is_dir(), None),
            Err(_) => {
                let m = std::fs::metadata(&path);
                (m.as_ref().is_ok_and(|m| m.is_dir()), Some(m))
            }
        };
        if !is_dir {
            if key.starts_with(prefix) {
                let meta = meta.unwrap_or_else(|| ent.metadata());
                files.push((key, path, meta));
            }
            return;
        }
        if !self.follow {
            self.walk(&path, &key, prefix, ancestors, files, problem);
            return;
        }
        let canonical = match std::fs::canonicalize(&path) {
            Ok(c) => c,
            Err(e) => {
                problem(SourceError::new(
                    path.display().to_string(),
                    format!("cannot resolve: {e}"),
                ));
                return;
            }
        };
        if ancestors.contains(&canonical) {
            problem(
                SourceError::new(
                    path.display().to_string(),
                    format!("symbolic link loop (back to {})", canonical.display()),
                )
                .with_help("the loop is not followed; the rest is listed"),
            );
            return;
        }
        ancestors.push(canonical);
        self.walk(&path, &key, prefix, ancestors, files, problem);
        ancestors.pop();
    }
}

impl LogSource for LocalDir {
    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    fn list(&self, prefix: &str, each: &mut dyn FnMut(Entry)) -> Result<(), SourceError> {
        let mut first = None;
        self.list_reporting(prefix, each, &mut |e| {
            first.get_or_insert(e);
        })?;
        first.map_or(Ok(()), Err)
    }

    fn list_reporting(
        &self,
        prefix: &str,
        each: &mut dyn FnMut(Entry),
        problem: &mut dyn FnMut(SourceError),
    ) -> Result<(), SourceError> {
        let mut files = Vec::new();
        let mut ancestors = Vec::new();
        if self.follow {
            if let Ok(c) = std::fs::canonicalize(&self.root) {
                ancestors.push(c);
            }
        }
        self.walk(&self.root, "", prefix, &mut ancestors, &mut files, problem);
        for (key, path, meta) in files {
            let meta = match meta {
                Ok(m) => m,
                Err(e) => {
                    problem(SourceError::new(
                        path.display().to_string(),
                        format!("cannot read: {e}"),
                    ));
                    continue;
                }
            };
            if !meta.is_file() {
                continue;
            }
            let last_modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_secs()).ok());
            each(Entry {
                key,
                size: meta.len(),
                last_modified,
            });
        }
        Ok(())
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let path = self.path_of(key)?;
        let f = std::fs::File::open(&path).map_err(|e| {
            SourceError::new(path.display().to_string(), format!("cannot open: {e}"))
        })?;
        Ok(Box::new(f))
    }

    fn read_range(&self, key: &str, start: u64, len: u64) -> Result<Vec<u8>, SourceError> {
        let path = self.path_of(key)?;
        let err = |e: std::io::Error| {
            SourceError::new(path.display().to_string(), format!("cannot read: {e}"))
        };
        let mut f = std::fs::File::open(&path).map_err(err)?;
        f.seek(SeekFrom::Start(start)).map_err(err)?;
        let mut buf = Vec::new();
        f.take(len).read_to_end(&mut buf).map_err(err)?;
        Ok(buf)
    }

    fn read_into(&self, key: &str, size: u64, buf: &mut Vec<u8>) -> Result<(), SourceError> {
        let path = self.path_of(key)?;
        buf.clear();
        buf.reserve(usize::try_from(size).unwrap_or(0) + 1);
        // Through `take`, as `File::read_to_end` would first ask the file its size and
        // position (two more system calls a log) for the room already reserved.
        std::fs::File::open(&path)
            .and_then(|f| f.take(u64::MAX).read_to_end(buf))
            .map_err(|e| {
                SourceError::new(path.display().to_string(), format!("cannot read: {e}"))
            })?;
        Ok(())
    }
}
