//! When mutations reached the emulator: for each mutation document that ran, the instant its
//! request arrived (before the injected latency), the instant it was applied to the account,
//! and the items its changes touched. Benchmarks and `crmmap demo` measure a change's way to
//! monday up to these instants, on the process's monotonic clock; nothing in monday's API
//! corresponds to them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use crate::events::Event;

/// One mutation document that ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MutationReceipt {
    /// The request arrived (before the injected latency and any held gate).
    pub received: Instant,
    /// Its changes were applied to the account.
    pub applied: Instant,
    /// The items its changes touched (created, changed, renamed, deleted, archived), in
    /// order, each once.
    pub items: Vec<u64>,
}

/// The newest receipts, at most [`Receipts::KEEP`].
#[derive(Debug, Default)]
pub(crate) struct Receipts {
    list: Mutex<VecDeque<MutationReceipt>>,
}

impl Receipts {
    /// How many receipts are kept (the oldest go first).
    pub const KEEP: usize = 100_000;

    pub(crate) fn record(&self, received: Instant, applied: Instant, events: &[Event]) {
        let mut items: Vec<u64> = Vec::new();
        for e in events {
            let id = e.item_id();
            if !items.contains(&id) {
                items.push(id);
            }
        }
        let mut list = crate::lock(&self.list);
        if list.len() >= Self::KEEP {
            list.pop_front();
        }
        list.push_back(MutationReceipt {
            received,
            applied,
            items,
        });
    }

    pub(crate) fn all(&self) -> Vec<MutationReceipt> {
        crate::lock(&self.list).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(item_id: u64) -> Event {
        Event::DeletePulse {
            board_id: 1,
            item_id,
            item_name: "x".into(),
        }
    }

    #[test]
    fn a_receipt_lists_each_touched_item_once_and_the_oldest_go_first() {
        let r = Receipts::default();
        let t = Instant::now();
        r.record(t, t, &[changed(7), changed(8), changed(7)]);
        assert_eq!(r.all().len(), 1);
        assert_eq!(r.all().first().map(|x| x.items.clone()), Some(vec![7, 8]));
        for i in 0..Receipts::KEEP as u64 {
            r.record(t, t, &[changed(100 + i)]);
        }
        let all = r.all();
        assert_eq!(all.len(), Receipts::KEEP);
        assert_eq!(all.first().map(|x| x.items.clone()), Some(vec![100]));
    }
}
