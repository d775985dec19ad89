//! Redis store (being written).

/// Placeholder until the Redis implementation lands.
#[derive(Debug, Clone)]
pub struct RedisStore;
