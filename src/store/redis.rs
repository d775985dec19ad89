//! Redis store (being written on its own branch).

use super::StoreError;

/// Placeholder until the Redis implementation lands.
#[derive(Debug, Clone)]
pub struct RedisStore;

impl RedisStore {
    pub async fn connect(_url: &str, _prefix: &str) -> Result<RedisStore, StoreError> {
        Err(StoreError::Backend("the Redis store is not built yet".into()))
    }
}
