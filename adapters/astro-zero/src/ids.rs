//! Astro Zero's 20-character record ids: a 4-character type prefix (`002N` for a BPM instance,
//! `001L` for a BPM definition) and 16 base-62 digits. Instance ids encode the internal
//! instance id, so they convert both ways and any instance is addressable from every dialect.

use bpm_compat_model::{CoreError, InstanceId, Missing};

pub const INSTANCE_PREFIX: &str = "002N";
pub const DEFINITION_PREFIX: &str = "001L";
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const WIDTH: usize = 16;

fn base62(mut n: u64) -> String {
    let mut out = [b'0'; WIDTH];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    // 62^16 > 2^64: every u64 fits, so `n` is 0 here.
    String::from_utf8_lossy(&out).into_owned()
}

fn from_base62(text: &str) -> Option<u64> {
    if text.len() != WIDTH {
        return None;
    }
    let mut n: u64 = 0;
    for c in text.bytes() {
        let d = DIGITS.iter().position(|x| *x == c)? as u64;
        n = n.checked_mul(62)?.checked_add(d)?;
    }
    Some(n)
}

pub fn render_instance_id(id: InstanceId) -> String {
    format!("{INSTANCE_PREFIX}{}", base62(id.0))
}

/// An instance id as a client wrote it; anything else is an unknown instance.
pub fn parse_instance_id(text: &str) -> Result<InstanceId, CoreError> {
    text.strip_prefix(INSTANCE_PREFIX)
        .and_then(from_base62)
        .map(InstanceId)
        .ok_or_else(|| CoreError::NotFound(Missing::InstanceText(text.to_owned())))
}

/// A definition's id: stable for its internal id (`key:version:deployment`), 20 characters.
/// Not reversible (definition ids are text); the metadata API will carry the mapping.
pub fn render_definition_id(id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{DEFINITION_PREFIX}{}", base62(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_round_trip_in_twenty_characters() {
        for n in [
            0u64,
            1,
            61,
            62,
            7,
            10_000_000_000_001,
            25_999_999_999_999,
            u64::MAX,
        ] {
            let text = render_instance_id(InstanceId(n));
            assert_eq!(text.len(), 20, "{text}");
            assert!(text.starts_with("002N"));
            assert_eq!(parse_instance_id(&text), Ok(InstanceId(n)));
        }
        assert_eq!(render_instance_id(InstanceId(61)), "002N000000000000000z");
        for bad in [
            "",
            "002N",
            "001L0000000000000001",
            "002N000000000000000!",
            "002Nzzzzzzzzzzzzzzzz",
        ] {
            assert!(parse_instance_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn definition_ids_are_stable_and_distinct() {
        let a = render_definition_id("oneTaskProcess:1:5");
        assert_eq!(a, render_definition_id("oneTaskProcess:1:5"));
        assert_ne!(a, render_definition_id("oneTaskProcess:2:9"));
        assert!(a.starts_with("001L") && a.len() == 20);
    }
}
