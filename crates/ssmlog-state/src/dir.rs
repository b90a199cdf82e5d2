//! The only IO in this crate: a State directory on disk.
//!
//! Writing stages every file in a fresh directory beside the target, then swaps the
//! State's own top-level entries (`state.json`, `log-archive/`, `accounts/`,
//! `organization/`) into place with renames. An error before the swap leaves the target as
//! it was; other entries in the target (a README, `.git`) are never touched.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::StateError;
use crate::files::{from_files, to_files, Files};
use crate::layout;
use crate::model::State;

/// Why a State (or any file tree) could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// The State itself cannot be laid out as files (a bad name).
    State(StateError),
    /// A filesystem operation failed on `path`.
    Io {
        /// The path the operation was on.
        path: PathBuf,
        /// What was being done (`create directory`, `write`, `rename`).
        action: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::State(e) => write!(f, "{e}"),
            WriteError::Io {
                path,
                action,
                source,
            } => {
                write!(f, "{}: cannot {action}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::State(e) => Some(e),
            WriteError::Io { source, .. } => Some(source),
        }
    }
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.to_path_buf();
    move |source| WriteError::Io {
        path,
        action,
        source,
    }
}

/// Writes `state` as a State directory at `target` (created if missing), replacing the
/// State files already there.
pub fn write_dir(state: &State, target: &Path) -> Result<(), WriteError> {
    let files = to_files(state).map_err(WriteError::State)?;
    let mut owned: Vec<&str> = vec![layout::MANIFEST];
    owned.extend(layout::OWNED_DIRS);
    write_tree(target, &files, &owned)
}

/// Writes `files` (relative `/`-separated paths) under `target` without leaving a
/// half-written tree: everything is written into a staging directory beside `target`, then
/// each top-level entry named in `owned` is swapped in by rename. Entries of `target` not in
/// `owned` are kept. Every top-level entry of `files` must be in `owned`.
pub fn write_tree(target: &Path, files: &Files, owned: &[&str]) -> Result<(), WriteError> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent, "create directory"))?;
    let base = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_string());
    let stage = unique(&parent, &format!(".{base}.ssmlog-new"))?;
    let result = stage_files(&stage, files, owned).and_then(|()| swap_in(&stage, target, owned));
    let _ = fs::remove_dir_all(&stage);
    result
}

/// Creates a fresh directory `parent/prefix-<pid>-<n>`.
fn unique(parent: &Path, prefix: &str) -> Result<PathBuf, WriteError> {
    let pid = std::process::id();
    for n in 0..1000u32 {
        let p = parent.join(format!("{prefix}-{pid}-{n}"));
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(&p, "create directory")(e)),
        }
    }
    Err(WriteError::Io {
        path: parent.join(prefix),
        action: "create a staging directory",
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            "too many leftover staging directories",
        ),
    })
}

fn stage_files(stage: &Path, files: &Files, owned: &[&str]) -> Result<(), WriteError> {
    for (rel, bytes) in files {
        let top = rel.split('/').next().unwrap_or_default();
        if !owned.contains(&top)
            || rel
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(WriteError::State(StateError::new(
                rel,
                None,
                "path is outside the State layout".to_string(),
            )));
        }
        let path = stage.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        }
        fs::write(&path, bytes).map_err(io_err(&path, "write"))?;
    }
    Ok(())
}

fn swap_in(stage: &Path, target: &Path, owned: &[&str]) -> Result<(), WriteError> {
    if !target.exists() {
        return fs::rename(stage, target).map_err(io_err(target, "rename the staged directory to"));
    }
    if !target.is_dir() {
        return Err(WriteError::Io {
            path: target.to_path_buf(),
            action: "write a directory at",
            source: io::Error::new(io::ErrorKind::AlreadyExists, "a file is in the way"),
        });
    }
    let parent = stage.parent().unwrap_or(Path::new("."));
    let trash = unique(parent, ".ssmlog-old")?;
    let mut moved_out: Vec<&str> = Vec::new();
    let mut moved_in: Vec<&str> = Vec::new();
    let mut outcome = Ok(());
    for name in owned {
        let old = target.join(name);
        if old.symlink_metadata().is_ok() {
            if let Err(e) = fs::rename(&old, trash.join(name)) {
                outcome = Err(io_err(&old, "move aside")(e));
                break;
            }
            moved_out.push(name);
        }
    }
    if outcome.is_ok() {
        for name in owned {
            let new = stage.join(name);
            if new.exists() {
                if let Err(e) = fs::rename(&new, target.join(name)) {
                    outcome = Err(io_err(&target.join(name), "rename into place")(e));
                    break;
                }
                moved_in.push(name);
            }
        }
    }
    if outcome.is_err() {
        // Roll back: take out what was moved in, put back what was moved out.
        for name in moved_in {
            let _ = fs::rename(target.join(name), stage.join(name));
        }
        for name in moved_out {
            let _ = fs::rename(trash.join(name), target.join(name));
        }
    }
    let _ = fs::remove_dir_all(&trash);
    outcome
}

/// Reads the State directory at `dir`. Errors name the file (under `dir`) and the JSON path.
pub fn read_dir(dir: &Path) -> Result<State, StateError> {
    let mut files = Files::new();
    let manifest = dir.join(layout::MANIFEST);
    let bytes = fs::read(&manifest).map_err(|e| {
        StateError::new(
            &manifest.display().to_string(),
            None,
            format!("cannot read: {e}"),
        )
    })?;
    files.insert(layout::MANIFEST.to_string(), bytes);
    for top in layout::OWNED_DIRS {
        collect(dir, top, &mut files)?;
    }
    from_files(&files).map_err(|e| e.in_dir(dir))
}

fn collect(root: &Path, rel: &str, files: &mut Files) -> Result<(), StateError> {
    let path = root.join(rel);
    let meta = match path.symlink_metadata() {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StateError::new(
                &path.display().to_string(),
                None,
                format!("cannot read: {e}"),
            ))
        }
    };
    if meta.is_file() {
        let bytes = fs::read(&path).map_err(|e| {
            StateError::new(
                &path.display().to_string(),
                None,
                format!("cannot read: {e}"),
            )
        })?;
        files.insert(rel.to_string(), bytes);
    } else if meta.is_dir() {
        let entries = fs::read_dir(&path).map_err(|e| {
            StateError::new(
                &path.display().to_string(),
                None,
                format!("cannot list: {e}"),
            )
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                StateError::new(
                    &path.display().to_string(),
                    None,
                    format!("cannot list: {e}"),
                )
            })?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(StateError::new(
                    &path.display().to_string(),
                    None,
                    format!("{name:?} is not a UTF-8 file name"),
                ));
            };
            collect(root, &format!("{rel}/{name}"), files)?;
        }
    } else {
        return Err(StateError::new(
            &path.display().to_string(),
            None,
            "is neither a file nor a directory (symlinks are not followed)".to_string(),
        ));
    }
    Ok(())
}
