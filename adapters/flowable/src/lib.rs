//! Flowable REST dialect (placeholder while the adapter is written).
