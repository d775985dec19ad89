//! Astro Zero's 20-character record ids: a 4-character type prefix (`002N` for a BPM instance,
//! `001L` for a BPM definition) and 16 base-62 digits. Instance ids encode the internal
//! instance id, definition ids the definition's deployment and its position there
//! (`deployment << 16 | ordinal`), so both convert both ways and anything created through any
//! dialect is addressable here.

use bpm_compat_model::{
    CoreError, DefinitionRef, DefinitionSelector, InstanceId, Missing, ProcessDefinition,
};

pub const INSTANCE_PREFIX: &str = "002N";
pub const DEFINITION_PREFIX: &str = "001L";
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const WIDTH: usize = 16;

fn base62(mut n: u128) -> String {
    let mut out = [b'0'; WIDTH];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    // 62^16 > 2^95: every id below that fits, so `n` is 0 here.
    String::from_utf8_lossy(&out).into_owned()
}

fn from_base62(text: &str) -> Option<u128> {
    if text.len() != WIDTH {
        return None;
    }
    let mut n: u128 = 0;
    for c in text.bytes() {
        let d = DIGITS.iter().position(|x| *x == c)? as u128;
        n = n.checked_mul(62)?.checked_add(d)?;
    }
    Some(n)
}

pub fn render_instance_id(id: InstanceId) -> String {
    format!("{INSTANCE_PREFIX}{}", base62(u128::from(id.0)))
}

/// An instance id as a client wrote it; anything else is an unknown instance.
pub fn parse_instance_id(text: &str) -> Result<InstanceId, CoreError> {
    text.strip_prefix(INSTANCE_PREFIX)
        .and_then(from_base62)
        .and_then(|n| u64::try_from(n).ok())
        .map(InstanceId)
        .ok_or_else(|| CoreError::NotFound(Missing::InstanceText(text.to_owned())))
}

/// A definition's id. Definitions outside any deployment (none in practice) show deployment 0.
pub fn render_definition_id(d: &ProcessDefinition) -> String {
    definition_id(d.deployment_id.as_deref().unwrap_or("0"), d.ordinal)
}

/// The id of the definition at `ordinal` in `deployment` (a decimal deployment id).
pub fn definition_id(deployment: &str, ordinal: u32) -> String {
    let deployment = deployment.parse::<u64>().unwrap_or(0);
    format!(
        "{DEFINITION_PREFIX}{}",
        base62(u128::from(deployment) << 16 | u128::from(ordinal))
    )
}

/// A definition id as a client wrote it; anything else names no BPM.
pub fn parse_definition_id(text: &str) -> Result<DefinitionRef, CoreError> {
    text.strip_prefix(DEFINITION_PREFIX)
        .and_then(from_base62)
        .and_then(|n| {
            let deployment = u64::try_from(n >> 16).ok()?;
            Some(DefinitionRef {
                deployment: deployment.to_string(),
                ordinal: (n & 0xffff) as u32,
            })
        })
        .ok_or_else(|| CoreError::NotFound(Missing::Definition(DefinitionSelector::Id(text.to_owned()))))
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
    fn definition_ids_round_trip_to_deployment_and_position() {
        let mut d = ProcessDefinition {
            id: "p:1:5".into(),
            key: "p".into(),
            version: 1,
            deployment_id: Some("5".into()),
            ..ProcessDefinition::default()
        };
        let first = render_definition_id(&d);
        assert_eq!(first, "001L0000000000001NFA");
        d.ordinal = 2;
        let third = render_definition_id(&d);
        assert_ne!(first, third);
        assert_eq!(
            parse_definition_id(&third),
            Ok(DefinitionRef {
                deployment: "5".into(),
                ordinal: 2
            })
        );
        d.deployment_id = Some(u64::MAX.to_string());
        let big = render_definition_id(&d);
        assert_eq!(big.len(), 20);
        assert_eq!(
            parse_definition_id(&big).map(|r| r.deployment),
            Ok(u64::MAX.to_string())
        );
        for bad in ["", "001L", "002N0000000000000001", "001Lzzzzzzzzzzzzzzzz"] {
            assert!(parse_definition_id(bad).is_err(), "{bad}");
        }
    }
}
