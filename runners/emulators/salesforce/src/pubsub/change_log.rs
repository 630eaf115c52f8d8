//! The org's change log ([`crate::cdc::ChangeLog`]) as the Pub/Sub server's event source.

use std::future::Future;
use std::pin::Pin;

use super::source::{
    AllocationExceeded, BodyField, EventSource, FieldKind, OutsideRetention, SourceEvent,
};
use crate::cdc::{ChangeLog, EventField};
use crate::schema::FieldType;

fn kind(t: FieldType) -> FieldKind {
    match t {
        FieldType::Boolean => FieldKind::Boolean,
        FieldType::Int => FieldKind::Int,
        FieldType::Currency | FieldType::Double | FieldType::Percent => FieldKind::Double,
        FieldType::Datetime => FieldKind::DatetimeMillis,
        FieldType::Id
        | FieldType::Reference
        | FieldType::String
        | FieldType::Textarea
        | FieldType::Picklist
        | FieldType::Multipicklist
        | FieldType::Date
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url => FieldKind::String,
    }
}

impl EventSource for ChangeLog {
    fn latest_replay_id(&self) -> u64 {
        ChangeLog::latest_replay_id(self)
    }

    fn earliest_cursor(&self) -> u64 {
        match self.earliest_replay_id() {
            Some(oldest) => oldest.saturating_sub(1),
            None => ChangeLog::latest_replay_id(self),
        }
    }

    fn read_after(&self, after: u64, max: usize) -> Result<Vec<SourceEvent>, OutsideRetention> {
        let events = ChangeLog::read_after(self, after, max).map_err(|_| OutsideRetention)?;
        Ok(events
            .into_iter()
            .map(|logged| SourceEvent {
                replay_id: logged.replay_id,
                entity: logged.event.header.entity_name.clone(),
                event_id: logged.event.event_uuid.clone(),
                payload: logged.event.payload(),
            })
            .collect())
    }

    fn body_fields(&self, entity: &str) -> Option<Vec<BodyField>> {
        let schema = self.entity_schema(entity)?;
        Some(
            schema
                .fields
                .iter()
                .map(|f| match f {
                    EventField::Scalar { name, ftype } => BodyField::Scalar {
                        name: name.clone(),
                        kind: kind(*ftype),
                    },
                    EventField::Compound { name, components } => BodyField::Compound {
                        name: name.clone(),
                        components: components
                            .iter()
                            .map(|(c, _, t)| (c.clone(), kind(*t)))
                            .collect(),
                    },
                })
                .collect(),
        )
    }

    fn count_delivery(&self, n: u64) -> Result<(), AllocationExceeded> {
        ChangeLog::count_delivery(self, n).map_err(|_| AllocationExceeded)
    }

    fn wait_after(&self, after: u64) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(ChangeLog::wait_after(self, after))
    }
}
