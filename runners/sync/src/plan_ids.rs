//! A plan's board and sObject as typed ids ([`crmmap_ids`]), for the store and the clients.

use crmmap_engine::plan::Plan;
use crmmap_ids::{BoardId, SObjectName};

/// The typed ids of a [`Plan`].
pub trait PlanIds {
    /// The monday board the plan syncs.
    fn board_id(&self) -> BoardId;
    /// The Salesforce sObject the plan syncs (links are kept under it).
    fn sobject_name(&self) -> SObjectName;
}

impl PlanIds for Plan {
    fn board_id(&self) -> BoardId {
        BoardId::new(self.board)
    }

    fn sobject_name(&self) -> SObjectName {
        SObjectName::new(self.sobject.as_str())
    }
}
