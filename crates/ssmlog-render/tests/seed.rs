//! The seed profile reproduces the source article's documents exactly. The fixtures under
//! `tests/fixtures/seed/` are the article's JSON blocks verbatim; this test fills their
//! placeholders from the config and compares them with what render writes, as JSON values
//! (key order aside, nothing may differ).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use ssmlog_render::{parse_config, render, Profile, EXAMPLE_CONFIG};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/seed/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Replaces the article's placeholders: `o-xxx…` (three spellings), the bucket name, and the
/// two key ARNs (in three spellings).
fn fill(v: &Value, org: &str, bucket: &str, bucket_key: &str, session_key: &str) -> Value {
    match v {
        Value::String(s) => {
            let s = if s.starts_with("o-x") && s.trim_start_matches("o-").chars().all(|c| c == 'x')
            {
                org.to_string()
            } else if s.ends_with("key/YOUR-KMS-FOR-SessionManagerEncryption") {
                session_key.to_string()
            } else if s.ends_with("key/YOUR-KMS-FOR-S3BucketEncryption") {
                bucket_key.to_string()
            } else {
                s.replace("customer_session_manager_logging_bucket", bucket)
            };
            Value::String(s)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| fill(x, org, bucket, bucket_key, session_key))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), fill(x, org, bucket, bucket_key, session_key)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn seed_profile_reproduces_the_source_documents() {
    let cfg = parse_config("ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let state = render(&cfg, Profile::Seed);
    let bucket_key = state.bucket_key().unwrap().arn.clone();
    let session_key = state.session_key().unwrap().arn.clone();
    let f = |name: &str| {
        fill(
            &fixture(name),
            &cfg.organization_id,
            &cfg.bucket.name,
            &bucket_key,
            &session_key,
        )
    };

    // Key policies: the article's statement, preceded by the statements a real key policy
    // needs (the account root, then the administrators).
    let statement = f("key-policy-statement.json");
    for key in &state.keys {
        let policy = key.policy.as_ref().unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(
            statements.last().unwrap(),
            &statement,
            "key policy of {}",
            key.name
        );
        assert_eq!(
            statements[0]["Principal"]["AWS"],
            "arn:aws:iam::111122223333:root"
        );
        assert_eq!(statements[0]["Action"], "kms:*");
    }

    assert_eq!(
        state.bucket.policy.as_ref().unwrap(),
        &f("bucket-policy.json")
    );

    let role_policy = f("instance-role-policy.json");
    let prefs = f("preferences.json");
    for account in &state.accounts {
        for role in &account.roles {
            assert_eq!(
                role.policies[0].document, role_policy,
                "{} {}",
                account.id, role.name
            );
        }
        for region in &account.regions {
            assert_eq!(
                region.preferences.as_ref().unwrap(),
                &prefs,
                "{} {}",
                account.id,
                region.name
            );
        }
    }
}

#[test]
fn fixtures_are_the_article_verbatim() {
    // When the shared seed is beside the repository (as in CI), the fixtures must be
    // exactly its JSON blocks.
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seeds/000_19700a8888fab793.txt");
    let Ok(text) = std::fs::read_to_string(&seed) else {
        eprintln!("skipping: {} not found", seed.display());
        return;
    };
    for name in [
        "key-policy-statement.json",
        "bucket-policy.json",
        "instance-role-policy.json",
        "preferences.json",
    ] {
        let path = format!("{}/tests/fixtures/seed/{name}", env!("CARGO_MANIFEST_DIR"));
        let block = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains(block.trim_end()),
            "{name} is not verbatim from the seed"
        );
    }
}
