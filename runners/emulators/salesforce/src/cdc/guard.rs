//! The org's lock guard: when it is released, the writes made under it become change events
//! of one transaction, so no write path can forget them.

use std::ops::{Deref, DerefMut};
use std::sync::MutexGuard;

use crate::Inner;

/// The org's lock. When it is released, the writes made under it become change events of one
/// transaction (see [`crate::cdc`]), so no write path can forget them.
pub(crate) struct OrgGuard<'a>(pub(crate) MutexGuard<'a, Inner>);

impl Deref for OrgGuard<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl DerefMut for OrgGuard<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.0
    }
}

impl Drop for OrgGuard<'_> {
    fn drop(&mut self) {
        if self.0.store.journal.is_empty() {
            return;
        }
        let journal = std::mem::take(&mut self.0.store.journal);
        super::commit(&self.0.change_log, journal, &self.0.store.user_id);
    }
}
