//! End-to-end tests of the real `gatehouse` binary.
