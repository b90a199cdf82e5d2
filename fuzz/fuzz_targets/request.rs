//! Any bytes as a request document: no panic, and the fast and explained paths agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssmlog_iam::{decide, evaluate, EvalInput};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(input) = EvalInput::from_json(text) {
        assert_eq!(decide(&input), evaluate(&input).decision);
    }
});
