//! Parse tests.
