//! Describe calls: one object's fields, and the org's objects.

use http::Method;

use super::request::Request;
use super::{SalesforceClient, check_name, not_found};
use crate::error::Result;
use crate::types::{GlobalDescribe, SObjectDescribe};

impl SalesforceClient {
    /// `GET /sobjects/{sobject}/describe`.
    pub async fn describe(&self, sobject: &str) -> Result<SObjectDescribe> {
        let req = Request::new(
            Method::GET,
            Self::data(&["sobjects", check_name(sobject)?, "describe"]),
        );
        self.send(req)
            .await
            .map_err(|e| not_found(e, sobject, "describe"))?
            .json()
    }

    /// `GET /sobjects/`.
    pub async fn describe_global(&self) -> Result<GlobalDescribe> {
        self.send(Request::new(Method::GET, Self::data(&["sobjects", ""])))
            .await?
            .json()
    }
}
