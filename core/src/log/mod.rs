//! The log: segment files of checksummed records. The log is the data store (a document's
//! bytes are written once, into the log), so a durable commit is one write and one fsync
//! (small ones into preallocated space, see `writer.rs`).

pub(crate) mod group_commit;
pub(crate) mod record;
pub(crate) mod recovery;
pub(crate) mod segment;
pub(crate) mod writer;
