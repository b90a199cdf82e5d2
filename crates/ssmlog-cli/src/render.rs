//! `ssmlog render`: the config becomes the desired State, as files, or CloudFormation.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use ssmlog_render::{cloudformation, render, Profile};

use crate::exit;

/// Which statements to render.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileArg {
    /// Least privilege (default).
    Hardened,
    /// The source article's statements, exactly, to compare with what you run today.
    Seed,
}

/// What to write.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// The State directory (docs/STATE.md) that check, plan and pull share.
    State,
    /// A log-archive template and a member-account StackSet template.
    Cloudformation,
}

/// Arguments of `ssmlog render`.
#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    /// The config file (`ssmlog init` writes one).
    #[arg(long, default_value = "ssmlog.toml")]
    pub config: PathBuf,
    /// Which statements to render.
    #[arg(long, value_enum, default_value_t = ProfileArg::Hardened)]
    pub baseline: ProfileArg,
    /// What to write.
    #[arg(long, value_enum, default_value_t = FormatArg::State)]
    pub format: FormatArg,
    /// The directory to write; State files already there are replaced, other files kept.
    #[arg(long)]
    pub out: PathBuf,
}

/// Renders the config into `--out`. Exit 0 on success, 2 when the config or the output
/// directory cannot be used; errors go to stderr, naming the file, the field and the fix.
pub fn run(args: &RenderArgs) -> ExitCode {
    match render_to_disk(args) {
        Ok(summary) => {
            println!("{summary}");
            exit::code(exit::OK)
        }
        Err(msg) => {
            eprintln!("{msg}");
            exit::code(exit::BAD_INPUT)
        }
    }
}

fn render_to_disk(args: &RenderArgs) -> Result<String, String> {
    let profile = match args.baseline {
        ProfileArg::Hardened => Profile::Hardened,
        ProfileArg::Seed => Profile::Seed,
    };
    let cfg = crate::config::load_for(&args.config, profile)
        .map_err(|e| format!("{e}; nothing was written"))?;
    let out = &args.out;
    match args.format {
        FormatArg::State => {
            let state = render(&cfg, profile);
            ssmlog_state::write_dir(&state, out).map_err(|e| format!("error: {e}"))?;
            let regions: usize = state.accounts.iter().map(|a| a.regions.len()).sum();
            let mut summary = format!(
                "rendered the {} State of {} account(s), {} account/region preferences, into {}",
                profile.as_str(),
                state.accounts.len(),
                regions,
                out.display()
            );
            let pending: Vec<&str> = state
                .keys
                .iter()
                .filter(|k| k.arn_is_placeholder)
                .map(|k| k.name.as_str())
                .collect();
            if !pending.is_empty() {
                summary.push_str(&format!(
                    "\nnote: {} not created yet: their ARNs are placeholders (key/{p}<name>, key/{m}{p}<name> for a multi-Region key and its replicas) until the keys exist",
                    pending.join(", "),
                    p = ssmlog_render::PLACEHOLDER_KEY_ID_PREFIX,
                    m = ssmlog_render::MULTI_REGION_KEY_ID_PREFIX,
                ));
            }
            Ok(summary)
        }
        FormatArg::Cloudformation => {
            let files = cloudformation(&cfg, profile).map_err(|e| format!("error: {e}"))?;
            // A stale replica template (the config changed) disappears with the others.
            let owned = [
                ssmlog_render::LOG_ARCHIVE_TEMPLATE,
                ssmlog_render::REPLICA_TEMPLATE,
                ssmlog_render::MEMBER_TEMPLATE,
                ssmlog_render::ORGANIZATION_TEMPLATE,
            ];
            ssmlog_state::write_tree(out, &files, &owned).map_err(|e| format!("error: {e}"))?;
            let mut summary = format!(
                "wrote {}/{} (deploy in the log-archive account, in the bucket's region)",
                out.display(),
                ssmlog_render::LOG_ARCHIVE_TEMPLATE
            );
            if files.contains_key(ssmlog_render::REPLICA_TEMPLATE) {
                summary.push_str(&format!(
                    ", then {}/{} (deploy in the log-archive account in every other enabled region)",
                    out.display(),
                    ssmlog_render::REPLICA_TEMPLATE
                ));
            }
            summary.push_str(&format!(
                ", then {}/{} (deploy as a StackSet to the member accounts and regions)",
                out.display(),
                ssmlog_render::MEMBER_TEMPLATE
            ));
            if files.contains_key(ssmlog_render::ORGANIZATION_TEMPLATE) {
                summary.push_str(&format!(
                    ", then {}/{} (deploy in the management account: the guardrail SCP and RCP)",
                    out.display(),
                    ssmlog_render::ORGANIZATION_TEMPLATE
                ));
            }
            Ok(summary)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ssmlog-render-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn args(d: &std::path::Path, format: FormatArg) -> RenderArgs {
        RenderArgs {
            config: d.join("ssmlog.toml"),
            baseline: ProfileArg::Hardened,
            format,
            out: d.join("out"),
        }
    }

    #[test]
    fn renders_a_state_that_reads_back_and_keeps_other_files() {
        let d = temp_dir("state");
        std::fs::write(d.join("ssmlog.toml"), ssmlog_render::EXAMPLE_CONFIG).unwrap();
        std::fs::create_dir_all(d.join("out/accounts/999999999999")).unwrap();
        std::fs::write(d.join("out/accounts/999999999999/stale.json"), "{}").unwrap();
        std::fs::write(d.join("out/README.md"), "kept").unwrap();
        let summary = render_to_disk(&args(&d, FormatArg::State)).unwrap();
        assert!(summary.contains("3 account(s)"), "{summary}");
        let state = ssmlog_state::read_dir(&d.join("out")).unwrap();
        assert_eq!(state.accounts.len(), 3);
        assert!(!d.join("out/accounts/999999999999").exists());
        assert_eq!(
            std::fs::read_to_string(d.join("out/README.md")).unwrap(),
            "kept"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_bad_config_names_file_field_and_fix_and_writes_nothing() {
        let d = temp_dir("bad");
        let text = ssmlog_render::EXAMPLE_CONFIG.replace("\"222233334444\"", "\"22223333444\"");
        std::fs::write(d.join("ssmlog.toml"), text).unwrap();
        let err = render_to_disk(&args(&d, FormatArg::State)).unwrap_err();
        assert!(err.contains("ssmlog.toml:"), "{err}");
        assert!(err.contains("`accounts.members[0].id`"), "{err}");
        assert!(
            err.contains("help: an account id is exactly 12 digits"),
            "{err}"
        );
        assert!(!d.join("out").exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn hardened_refuses_a_config_without_administrators_and_seed_renders_it() {
        let d = temp_dir("noadmin");
        let text = ssmlog_render::EXAMPLE_CONFIG.replace(
            "administrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]",
            "administrators = []",
        );
        std::fs::write(d.join("ssmlog.toml"), text).unwrap();
        let err = render_to_disk(&args(&d, FormatArg::State)).unwrap_err();
        assert!(err.contains("`bucket.administrators`"), "{err}");
        assert!(err.contains("`keys.session.administrators`"), "{err}");
        assert!(err.contains("nothing was written"), "{err}");
        assert!(!d.join("out").exists());
        let mut seed = args(&d, FormatArg::State);
        seed.baseline = ProfileArg::Seed;
        render_to_disk(&seed).unwrap();
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_missing_config_points_at_init() {
        let d = temp_dir("missing");
        let err = render_to_disk(&args(&d, FormatArg::State)).unwrap_err();
        assert!(err.contains("ssmlog init"), "{err}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn writes_every_template_and_drops_a_stale_replica_template() {
        let d = temp_dir("cfn");
        std::fs::write(d.join("ssmlog.toml"), ssmlog_render::EXAMPLE_CONFIG).unwrap();
        let summary = render_to_disk(&args(&d, FormatArg::Cloudformation)).unwrap();
        let out = d.join("out");
        for t in [
            ssmlog_render::LOG_ARCHIVE_TEMPLATE,
            ssmlog_render::REPLICA_TEMPLATE,
            ssmlog_render::MEMBER_TEMPLATE,
        ] {
            assert!(out.join(t).is_file(), "{t}");
            assert!(summary.contains(t), "{summary}");
        }
        // The seed has no replica: a second render into the same directory removes it.
        let mut seed = args(&d, FormatArg::Cloudformation);
        seed.baseline = ProfileArg::Seed;
        render_to_disk(&seed).unwrap();
        assert!(!out.join(ssmlog_render::REPLICA_TEMPLATE).exists());
        assert!(out.join(ssmlog_render::MEMBER_TEMPLATE).is_file());
        let _ = std::fs::remove_dir_all(&d);
    }
}
