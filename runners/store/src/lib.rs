//! State store for crmmap runners.
