//! Unit tests: the state machine and NAT choices on hand-built packets.
