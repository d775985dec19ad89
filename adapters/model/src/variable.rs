//! Typed process variables.
//!
//! The set of types is the union of what the vendors' APIs can express (Flowable's REST
//! converters are the widest). Each vendor adapter maps its own type names onto these.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::Timestamp;

/// Variables of one scope, ordered by name so every store renders them alike.
pub type Variables = litemap::LiteMap<String, VariableValue>;

/// A named variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    pub value: VariableValue,
}

impl Variable {
    pub fn new(name: impl Into<String>, value: VariableValue) -> Variable {
        Variable {
            name: name.into(),
            value,
        }
    }
}

/// A typed value. Stored as `{"type": ..., "value": ...}`; binary payloads are base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "camelCase")]
pub enum VariableValue {
    Null,
    String(String),
    Short(i16),
    Integer(i32),
    Long(i64),
    Double(f64),
    Boolean(bool),
    /// A point in time (`java.util.Date` in Java engines).
    Date(Timestamp),
    /// A point in time with instant semantics (`java.time.Instant`).
    Instant(Timestamp),
    /// `yyyy-MM-dd`, kept as text.
    LocalDate(String),
    /// ISO local date-time, kept as text.
    LocalDateTime(String),
    /// Decimal in plain notation, kept as text so no precision is lost.
    BigDecimal(String),
    BigInteger(String),
    Uuid(String),
    /// A structured JSON document.
    Json(serde_json::Value),
    /// Opaque bytes with an optional media type.
    Binary(Blob),
    /// Bytes of a serialized object of the client's platform (Java serialization).
    Serializable(Blob),
}

/// Raw bytes of a binary variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blob {
    #[serde(serialize_with = "ser_b64", deserialize_with = "de_b64")]
    pub data: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

fn ser_b64<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
}

fn de_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(serde::de::Error::custom)
}

impl VariableValue {
    /// The typed value of a bare JSON value, as JSON-speaking engines infer it: text, integer
    /// (32-bit when it fits, else 64-bit, else a big integer), double, boolean, null; objects
    /// and arrays stay JSON.
    pub fn from_json(value: &serde_json::Value) -> VariableValue {
        use serde_json::Value;
        match value {
            Value::Null => VariableValue::Null,
            Value::Bool(b) => VariableValue::Boolean(*b),
            Value::String(s) => VariableValue::String(s.clone()),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    match i32::try_from(i) {
                        Ok(small) => VariableValue::Integer(small),
                        Err(_) => VariableValue::Long(i),
                    }
                } else if let Some(u) = n.as_u64() {
                    VariableValue::BigInteger(u.to_string())
                } else {
                    VariableValue::Double(n.as_f64().unwrap_or(0.0))
                }
            }
            Value::Array(_) | Value::Object(_) => VariableValue::Json(value.clone()),
        }
    }

    /// The neutral type name (camelCase, matching the serde tag).
    pub fn type_name(&self) -> &'static str {
        match self {
            VariableValue::Null => "null",
            VariableValue::String(_) => "string",
            VariableValue::Short(_) => "short",
            VariableValue::Integer(_) => "integer",
            VariableValue::Long(_) => "long",
            VariableValue::Double(_) => "double",
            VariableValue::Boolean(_) => "boolean",
            VariableValue::Date(_) => "date",
            VariableValue::Instant(_) => "instant",
            VariableValue::LocalDate(_) => "localDate",
            VariableValue::LocalDateTime(_) => "localDateTime",
            VariableValue::BigDecimal(_) => "bigDecimal",
            VariableValue::BigInteger(_) => "bigInteger",
            VariableValue::Uuid(_) => "uuid",
            VariableValue::Json(_) => "json",
            VariableValue::Binary(_) => "binary",
            VariableValue::Serializable(_) => "serializable",
        }
    }

    /// Whether the value is raw bytes served from a data URL rather than inline.
    pub fn is_bytes(&self) -> bool {
        matches!(self, VariableValue::Binary(_) | VariableValue::Serializable(_))
    }

    /// The text of a textual value, for case-insensitive and `like` comparisons.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            VariableValue::String(s)
            | VariableValue::LocalDate(s)
            | VariableValue::LocalDateTime(s)
            | VariableValue::BigDecimal(s)
            | VariableValue::BigInteger(s)
            | VariableValue::Uuid(s) => Some(s),
            _ => None,
        }
    }

    /// Orders two values of the same type; `None` for different types or unordered kinds.
    pub fn compare(&self, other: &VariableValue) -> Option<std::cmp::Ordering> {
        use VariableValue as V;
        match (self, other) {
            (V::String(a), V::String(b)) => Some(a.cmp(b)),
            (V::Short(a), V::Short(b)) => Some(a.cmp(b)),
            (V::Integer(a), V::Integer(b)) => Some(a.cmp(b)),
            (V::Long(a), V::Long(b)) => Some(a.cmp(b)),
            (V::Double(a), V::Double(b)) => a.partial_cmp(b),
            (V::Boolean(a), V::Boolean(b)) => Some(a.cmp(b)),
            (V::Date(a), V::Date(b)) | (V::Instant(a), V::Instant(b)) => Some(a.cmp(b)),
            (V::LocalDate(a), V::LocalDate(b))
            | (V::LocalDateTime(a), V::LocalDateTime(b))
            | (V::Uuid(a), V::Uuid(b)) => Some(a.cmp(b)),
            (V::BigDecimal(a), V::BigDecimal(b)) | (V::BigInteger(a), V::BigInteger(b)) => {
                match (a.parse::<f64>(), b.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.partial_cmp(&y),
                    _ => None,
                }
            }
            (V::Json(a), V::Json(b)) => (a == b).then_some(std::cmp::Ordering::Equal),
            (V::Null, V::Null) => Some(std::cmp::Ordering::Equal),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        let values = [
            VariableValue::Null,
            VariableValue::Long(i64::MAX),
            VariableValue::Double(0.1),
            VariableValue::Date(Timestamp(1_700_000_000_123)),
            VariableValue::Json(serde_json::json!({"a": [1, {}]})),
            VariableValue::Binary(Blob {
                data: vec![0, 255, 7],
                content_type: None,
            }),
        ];
        for v in values {
            let text = serde_json::to_string(&v).expect("serializes");
            let back: VariableValue = serde_json::from_str(&text).expect("deserializes");
            assert_eq!(back, v, "{text}");
        }
        let text = serde_json::to_string(&VariableValue::Integer(5)).expect("serializes");
        assert_eq!(text, r#"{"type":"integer","value":5}"#);
    }
}
