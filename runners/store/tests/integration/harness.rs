//! Fresh databases for each test, from the test kit: an SQLite file in a temporary directory,
//! or a PostgreSQL database created from `CRMMAP_TEST_POSTGRES_URL` and dropped after.

pub use crmmap_testkit::TestStore as TestDb;
pub use crmmap_testkit::eventually as wait_until;
