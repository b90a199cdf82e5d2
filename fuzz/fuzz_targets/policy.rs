//! Any bytes as a policy of every kind: no panic, and validation agrees with parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssmlog_iam::{validate_policy, Policy, PolicyKind, Severity};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in PolicyKind::ALL {
        let diags = validate_policy("fuzz", text, kind);
        let errors = diags.iter().any(|d| d.severity == Severity::Error);
        assert_eq!(Policy::parse("fuzz", text, kind).is_ok(), !errors);
        for d in &diags {
            let _ = d.render(text);
        }
    }
});
