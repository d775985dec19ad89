//! Instance ids as Flowable shows them: the internal integer in decimal (`7` ⇄ `"7"`).
//!
//! Flowable ids are opaque strings, so a client may send anything; text that is not one of our
//! decimal ids names no instance and is answered like any unknown id (a 404 in the resource's
//! own words), never as a 400.

use bpm_compat_model::{CoreError, InstanceId, Missing};

/// The Flowable id of an instance.
pub fn render_instance_id(id: InstanceId) -> String {
    id.0.to_string()
}

/// Parses a Flowable id; non-decimal text is `NotFound(Missing::InstanceText)`.
pub fn parse_instance_id(text: &str) -> Result<InstanceId, CoreError> {
    text.parse::<InstanceId>()
        .map_err(|_| CoreError::NotFound(Missing::InstanceText(text.to_string())))
}

/// Parses an id used as a query filter: text that is not one of our ids matches nothing.
pub fn filter_instance_id(text: &str) -> Option<InstanceId> {
    text.parse::<InstanceId>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for n in [0u64, 7, 42, u64::MAX] {
            let id = InstanceId(n);
            assert_eq!(parse_instance_id(&render_instance_id(id)), Ok(id));
        }
    }

    #[test]
    fn non_numeric_is_not_found() {
        for text in ["abc", "", "-1", "+7", "7.0", "99999999999999999999999"] {
            assert_eq!(
                parse_instance_id(text),
                Err(CoreError::NotFound(Missing::InstanceText(text.into()))),
                "{text}"
            );
            assert_eq!(filter_instance_id(text), None);
        }
    }
}
