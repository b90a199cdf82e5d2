//! AWS regions ssmlog knows, so a typo in a region is caught before anything is deployed.

/// Commercial-partition regions, opt-in ones included.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The 17 regions enabled by default in every account (no opt-in needed).
pub const DEFAULT_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Whether `name` is a region ssmlog knows.
pub fn is_known(name: &str) -> bool {
    KNOWN_REGIONS.binary_search(&name).is_ok()
}

/// The known region closest to a misspelt `name`, if one is close enough to suggest.
pub fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    KNOWN_REGIONS
        .iter()
        .map(|r| (distance(&lower, r), *r))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, r)| r)
}

/// Levenshtein distance, small inputs only.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(KNOWN_REGIONS.windows(2).all(|w| w[0] < w[1]));
        assert!(DEFAULT_REGIONS.iter().all(|r| is_known(r)));
        assert_eq!(DEFAULT_REGIONS.len(), 17);
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("eu-west1"), Some("eu-west-1"));
        assert_eq!(suggest("us_east_1"), Some("us-east-1"));
        assert_eq!(suggest("mars-north-9"), None);
    }
}
