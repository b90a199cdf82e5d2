//! One vocabulary of flags across commands (README, "Flags"):
//!
//! - `--profile NAME` is the AWS named profile, as in the aws CLI, wherever AWS is reached;
//! - `--baseline hardened|seed` chooses which statements render writes (render, check,
//!   pull, plan, apply, verify, canary);
//! - `--format text|json` (and `sarif`, `jsonl`, `cloudformation` where they apply): `text`
//!   is the form for people everywhere.
//! - `--verbose` (repeatable, every command; `-v` where AWS is reached, since `logs grep -v`
//!   inverts the match) shows the AWS calls on stderr (`verbose.rs`).
//!
//! Spellings of earlier versions are refused before parsing, with an error that names the new
//! one (a silent alias would let `--profile seed` go on meaning two things).

/// Subcommands that never reach AWS, where `--profile` was the policy profile.
const OFFLINE: &[&str] = &["render", "check"];

/// Why `args` (the command line without the program name) uses a spelling that changed, and
/// the new one; None when it does not.
pub fn renamed(args: &[String]) -> Option<String> {
    let command = args.iter().find(|a| !a.starts_with('-'));
    for (i, a) in args.iter().enumerate() {
        if a == "--" {
            break;
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (a.as_str(), None),
        };
        let value = || inline.or_else(|| args.get(i + 1).map(String::as_str));
        match flag {
            "--render-profile" => {
                let v = value().unwrap_or("hardened");
                return Some(format!(
                    "`--render-profile` is now `--baseline` (`--baseline {v}`); `--profile` is the AWS profile"
                ));
            }
            "--profile" if command.is_some_and(|c| OFFLINE.contains(&c.as_str())) => {
                let v = value().unwrap_or("hardened");
                return Some(format!(
                    "the policy profile is now `--baseline` (`--baseline {v}`); `--profile` names an AWS profile, which `{}` does not use",
                    command.map_or("", String::as_str)
                ));
            }
            "--format" => {
                if let Some(v @ ("table" | "human")) = value() {
                    return Some(format!("`--format {v}` is now `--format text`"));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(line: &str) -> Option<String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        renamed(&args)
    }

    #[test]
    fn old_spellings_name_the_new_ones() {
        assert_eq!(
            r("render --profile seed --out d").as_deref(),
            Some("the policy profile is now `--baseline` (`--baseline seed`); `--profile` names an AWS profile, which `render` does not use")
        );
        assert!(
            r("check --config c --profile=seed").is_some_and(|m| m.contains("`--baseline seed`"))
        );
        assert!(r("plan --render-profile seed")
            .is_some_and(|m| m.starts_with("`--render-profile` is now `--baseline`")));
        assert_eq!(
            r("iam validate --format human p.json").as_deref(),
            Some("`--format human` is now `--format text`")
        );
        assert!(r("check --format=table").is_some());
    }

    #[test]
    fn the_new_vocabulary_passes() {
        assert_eq!(r("plan --profile prod --baseline seed --format text"), None);
        assert_eq!(
            r("pull --profile seed"),
            None,
            "an AWS profile may be named seed"
        );
        assert_eq!(
            r("render --baseline seed --format cloudformation --out d"),
            None
        );
        assert_eq!(r("check --format sarif"), None);
        assert_eq!(r("logs grep -- --format table"), None);
    }
}
