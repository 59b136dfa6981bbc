//! Shared emission plumbing: careful writes, banners, names, file lists.

pub mod write;
