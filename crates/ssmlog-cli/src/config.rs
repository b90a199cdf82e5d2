//! Reading the config file, shared by every subcommand that takes `--config`.

use std::path::Path;

use ssmlog_render::{check_profile, parse_config, Config, ConfigErrors, Profile};

/// Reads and validates the config; the error names the file, each field and its fix.
pub fn load(path: &Path) -> Result<Config, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!("error: {name}: cannot read the config: {e}\n  help: run `ssmlog init` to write an example, or pass --config PATH")
    })?;
    parse_config(&name, &text).map_err(|errs| report(&name, &errs))
}

/// [`load`], then what `profile` needs of the config (the hardened profile refuses to
/// render without administrators, which would lock the bucket and keys).
pub fn load_for(path: &Path, profile: Profile) -> Result<Config, String> {
    let cfg = load(path)?;
    let name = path.display().to_string();
    check_profile(&name, &cfg, profile).map_err(|errs| report(&name, &errs))?;
    Ok(cfg)
}

fn report(name: &str, errs: &ConfigErrors) -> String {
    let n = errs.0.len();
    let list: Vec<String> = errs.0.iter().map(|e| format!("error: {e}")).collect();
    format!(
        "{}\n{n} error{} in {name}",
        list.join("\n"),
        if n == 1 { "" } else { "s" }
    )
}
