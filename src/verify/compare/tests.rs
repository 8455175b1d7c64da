//! Unit tests of the comparison.
