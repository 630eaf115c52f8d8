//! Salesforce record ids: the case-sensitive 15-character form and the case-insensitive
//! 18-character form the API returns.

pub use crmmap_ids::{InvalidRecordId, RecordId};

/// The 18-character form of a record id: a 15-character one gets its three checksum
/// characters ([`RecordId::parse`]); an 18-character one is returned as it is (its suffix is
/// not checked here). `None` for anything else.
///
/// ```
/// assert_eq!(crmmap_salesforce::ids::to_18("001A0000006Vm9r").as_deref(), Some("001A0000006Vm9rIAC"));
/// assert_eq!(crmmap_salesforce::ids::to_18("001A0000006Vm9rIAC").as_deref(), Some("001A0000006Vm9rIAC"));
/// assert_eq!(crmmap_salesforce::ids::to_18("001"), None);
/// ```
pub fn to_18(id: &str) -> Option<String> {
    match id.len() {
        18 if id.bytes().all(|b| b.is_ascii_alphanumeric()) => Some(id.to_owned()),
        _ => RecordId::parse(id).ok().map(String::from),
    }
}

/// The org id (18 characters, `00D…`) in an OAuth identity URL
/// (`https://login.salesforce.com/id/<org>/<user>`): the Pub/Sub API's `tenantid`.
///
/// ```
/// let url = "https://login.salesforce.com/id/00D5g000004Emu1EAC/0055g00000EmUsR";
/// assert_eq!(crmmap_salesforce::ids::org_of_identity_url(url).as_deref(), Some("00D5g000004Emu1EAC"));
/// assert_eq!(crmmap_salesforce::ids::org_of_identity_url("https://x/id/005/00D"), None);
/// ```
pub fn org_of_identity_url(url: &str) -> Option<String> {
    let mut segments = url.trim_end_matches('/').rsplit('/');
    let _user = segments.next()?;
    let org = segments.next()?;
    (segments.next()? == "id").then_some(())?;
    to_18(org).filter(|o| o.starts_with("00D"))
}

/// The user id at the end of an identity URL (`https://login.salesforce.com/id/<org>/<user>`,
/// the `id` of a token response), in its 18-character form.
///
/// ```
/// let url = "https://login.salesforce.com/id/00D5g000004Emu1EAC/0055g00000EmUsR";
/// assert_eq!(crmmap_salesforce::ids::user_of_identity_url(url).as_deref(), Some("0055g00000EmUsRAAV"));
/// assert_eq!(crmmap_salesforce::ids::user_of_identity_url("not a url"), None);
/// ```
pub fn user_of_identity_url(url: &str) -> Option<String> {
    let mut segments = url.trim_end_matches('/').rsplit('/');
    let user = segments.next()?;
    let _org = segments.next()?;
    (segments.next()? == "id").then_some(())?;
    to_18(user).filter(|u| u.starts_with("005"))
}
