//! Where each part of a State lives inside a State directory (documented in docs/STATE.md).
//!
//! Paths are relative and `/`-separated; names that become path segments are checked with
//! [`check_segment`] so that a State can never write outside its directory.

/// The manifest: everything but the documents.
pub const MANIFEST: &str = "state.json";
/// The bucket policy.
pub const BUCKET_POLICY: &str = "log-archive/bucket-policy.json";
/// Directory of the key policies.
pub const KEY_POLICIES_DIR: &str = "log-archive/key-policies";
/// Top-level directories owned by the layout; anything else in a State directory is ignored.
pub const OWNED_DIRS: [&str; 3] = ["log-archive", "accounts", "organization"];

/// Path of the key policy of key `name`.
pub fn key_policy(name: &str) -> String {
    format!("{KEY_POLICIES_DIR}/{name}.json")
}

/// Path of inline policy `policy` of `role` in `account`.
pub fn role_policy(account: &str, role: &str, policy: &str) -> String {
    format!("accounts/{account}/roles/{role}/policies/{policy}.json")
}

/// Path of the trust policy of `role` in `account`.
pub fn trust_policy(account: &str, role: &str) -> String {
    format!("accounts/{account}/roles/{role}/trust-policy.json")
}

/// Path of the preferences document of `account` in `region`.
pub fn preferences(account: &str, region: &str) -> String {
    format!(
        "accounts/{account}/regions/{region}/{}.json",
        crate::model::PREFERENCES_DOCUMENT
    )
}

/// Path of the policy of VPC endpoint `endpoint` of `account` in `region`.
pub fn endpoint_policy(account: &str, region: &str, endpoint: &str) -> String {
    format!("accounts/{account}/regions/{region}/vpc-endpoints/{endpoint}.json")
}

/// Path of SCP `policy` attached to `target`.
pub fn scp(target: &str, policy: &str) -> String {
    format!("organization/scps/{target}/{policy}.json")
}

/// Path of RCP `policy` attached to `target`.
pub fn rcp(target: &str, policy: &str) -> String {
    format!("organization/rcps/{target}/{policy}.json")
}

/// Checks that `name` can be one path segment: 1–128 characters from IAM's name alphabet
/// (`A-Za-z0-9+=,.@_-`), not `.` or `..`. Returns the reason when it cannot.
pub fn check_segment(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > 128 {
        return Err(format!("is {} characters long, at most 128", name.len()));
    }
    if name == "." || name == ".." {
        return Err("is not a name".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return Err(format!(
            "contains `{c}`; only A-Z a-z 0-9 + = , . @ _ - are allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_reject_traversal_and_separators() {
        assert!(check_segment("SSMInstanceRole").is_ok());
        assert!(check_segment("..").is_err());
        assert!(check_segment("a/b").is_err());
        assert!(check_segment("").is_err());
        assert!(check_segment(&"x".repeat(129)).is_err());
    }

    #[test]
    fn paths_follow_the_documented_layout() {
        assert_eq!(
            preferences("222233334444", "eu-west-1"),
            "accounts/222233334444/regions/eu-west-1/SSM-SessionManagerRunShell.json"
        );
        assert_eq!(
            role_policy("222233334444", "R", "P"),
            "accounts/222233334444/roles/R/policies/P.json"
        );
        assert_eq!(
            key_policy("bucket-key"),
            "log-archive/key-policies/bucket-key.json"
        );
    }
}
