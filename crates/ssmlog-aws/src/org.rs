//! AWS Organizations: the organization id and its accounts, for `accounts.source = "organization"`.

use crate::connect::AccountClients;
use crate::error::AwsError;

/// What the organization says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// `o-…`.
    pub organization_id: String,
    /// The management account.
    pub management_account_id: Option<String>,
    /// Active accounts, `(id, name)`, sorted by id.
    pub accounts: Vec<(String, Option<String>)>,
}

/// Reads the organization and its active accounts; needs to run in the management account
/// or a delegated administrator.
pub async fn discover(clients: &AccountClients) -> Result<Discovery, AwsError> {
    let org = clients.organizations();
    clients.count("organizations:DescribeOrganization");
    let o = org
        .describe_organization()
        .send()
        .await
        .map_err(|e| AwsError::sdk("organizations:DescribeOrganization", &e))?;
    let o = o
        .organization
        .ok_or_else(|| AwsError::new("organizations:DescribeOrganization", "no organization"))?;
    let mut accounts = Vec::new();
    let mut token = None;
    loop {
        clients.count("organizations:ListAccounts");
        let page = org
            .list_accounts()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::sdk("organizations:ListAccounts", &e))?;
        for a in page.accounts.unwrap_or_default() {
            let active = a
                .status
                .as_ref()
                .map(|s| s.as_str() == "ACTIVE")
                .unwrap_or(true);
            if let (Some(id), true) = (a.id, active) {
                accounts.push((id, a.name));
            }
        }
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    accounts.sort();
    Ok(Discovery {
        organization_id: o.id.unwrap_or_default(),
        management_account_id: o.master_account_id,
        accounts,
    })
}

impl Discovery {
    /// The accounts of `ids` that are not active accounts of this organization: a config
    /// that names one would write an organization's logging setup into a stranger's (or a
    /// closed) account, so callers refuse before any write.
    pub fn outsiders<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        ids.into_iter()
            .filter(|id| !self.accounts.iter().any(|(a, _)| a == id))
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outsiders_are_the_accounts_not_listed() {
        let d = Discovery {
            organization_id: "o-a1b2c3d4e5".into(),
            management_account_id: Some("111111111111".into()),
            accounts: vec![("111111111111".into(), None), ("222233334444".into(), None)],
        };
        assert_eq!(
            d.outsiders(["222233334444", "999999999999", "111111111111"]),
            ["999999999999"]
        );
    }
}
