//! MIME assembly: a message template rendered once, personalized per recipient.
pub mod qp;
