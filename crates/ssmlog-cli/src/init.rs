//! `ssmlog init`: write the commented example config, the starting point of every setup.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::exit;

/// Arguments of `ssmlog init`.
#[derive(Args, Debug, Clone)]
pub struct InitArgs {
    /// Where to write the config.
    #[arg(long, default_value = "ssmlog.toml")]
    pub out: PathBuf,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Writes the example config (the same bytes as `examples/ssmlog.toml`).
pub fn run(args: &InitArgs) -> ExitCode {
    match init(args) {
        Ok(()) => {
            println!(
                "wrote {}: set your organization, accounts, bucket and roles, then run `ssmlog render --config {} --out state/`",
                args.out.display(),
                args.out.display()
            );
            exit::code(exit::OK)
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            exit::code(exit::BAD_INPUT)
        }
    }
}

fn init(args: &InitArgs) -> Result<(), String> {
    let out = &args.out;
    if out.exists() && !args.force {
        return Err(format!(
            "{}: already exists\n  help: pass --force to overwrite it, or --out to write elsewhere",
            out.display()
        ));
    }
    write_atomically(out, ssmlog_render::EXAMPLE_CONFIG.as_bytes())
        .map_err(|e| format!("{}: cannot write: {e}", out.display()))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so a
/// failed write never leaves a truncated config.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.ssmlog-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ssmlog-init-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn writes_the_example_and_refuses_to_overwrite_without_force() {
        let d = temp_dir("overwrite");
        let out = d.join("ssmlog.toml");
        let args = InitArgs {
            out: out.clone(),
            force: false,
        };
        init(&args).unwrap();
        assert_eq!(
            fs::read_to_string(&out).unwrap(),
            ssmlog_render::EXAMPLE_CONFIG
        );
        fs::write(&out, "mine").unwrap();
        let err = init(&args).unwrap_err();
        assert!(
            err.contains("already exists") && err.contains("--force"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&out).unwrap(), "mine");
        init(&InitArgs {
            out: out.clone(),
            force: true,
        })
        .unwrap();
        assert_eq!(
            fs::read_to_string(&out).unwrap(),
            ssmlog_render::EXAMPLE_CONFIG
        );
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn the_written_example_is_a_valid_config() {
        assert!(ssmlog_render::parse_config("ssmlog.toml", ssmlog_render::EXAMPLE_CONFIG).is_ok());
    }
}
