//! Flowable's REST variable converters (flowable-engine
//! `modules/flowable-common-rest/.../rest/variable/*RestVariableConverter.java`, registered by
//! `RestResponseFactory.initializeVariableConverters`), in both directions, plus the type
//! inference for variables sent without a `type`.
//!
//! Deliberate differences from Flowable, all documented in the crate docs:
//! - a JSON object or array without `type` is stored as a `json` variable (Flowable stores a
//!   Java `Map`/`List` as `serializable`, which only a Java client could read back);
//! - malformed `bigDecimal`, `bigInteger` and `uuid` text is a 400 (Flowable: 500);
//! - dates and instants render with three fraction digits (`2025-11-24T13:16:00.000Z`).

use bpm_compat_model::{CoreError, Timestamp, Variable, VariableValue};
use serde_json::{Number, Value};

use crate::wire::RestVariable;

/// The REST name of a stored value; `None` for null (rendered without `type`).
pub fn rest_type(value: &VariableValue) -> Option<&'static str> {
    Some(match value {
        VariableValue::Null => return None,
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
    })
}

/// Renders a variable. `data_url` makes the `valueUrl` of binary and serializable values
/// (only those: every other variable of every rendered instance would format a URL for
/// nothing).
pub fn to_rest(var: &Variable, scope: Option<&str>, data_url: impl FnOnce() -> String) -> RestVariable {
    let value = match &var.value {
        VariableValue::Null | VariableValue::Binary(_) | VariableValue::Serializable(_) => Value::Null,
        VariableValue::String(s)
        | VariableValue::LocalDate(s)
        | VariableValue::LocalDateTime(s)
        | VariableValue::BigDecimal(s)
        | VariableValue::BigInteger(s)
        | VariableValue::Uuid(s) => Value::String(s.clone()),
        VariableValue::Short(n) => Value::from(*n),
        VariableValue::Integer(n) => Value::from(*n),
        VariableValue::Long(n) => Value::from(*n),
        VariableValue::Double(d) => Number::from_f64(*d).map_or(Value::Null, Value::Number),
        VariableValue::Boolean(b) => Value::Bool(*b),
        VariableValue::Date(t) | VariableValue::Instant(t) => Value::String(t.to_iso_millis()),
        VariableValue::Json(v) => v.clone(),
    };
    RestVariable {
        name: var.name.clone(),
        type_name: rest_type(&var.value).map(str::to_string),
        value,
        value_url: var.value.is_bytes().then(data_url),
        scope: scope.map(str::to_string),
    }
}

/// The value Jackson reads when no `type` is given: text, integer (long, then big integer
/// when it does not fit), double, boolean, null; objects and arrays become `json`.
pub fn infer(value: &Value) -> VariableValue {
    VariableValue::from_json(value)
}

fn is_decimal(text: &str) -> bool {
    let t = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac) && exp_ok
}

fn is_integer(text: &str) -> bool {
    let t = text.strip_prefix(['+', '-']).unwrap_or(text);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_local_date(text: &str) -> bool {
    text.len() == 10 && Timestamp::parse_iso(text).is_some()
}

fn is_local_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 16
        && b[10] == b'T'
        && !b[11..].iter().any(|c| matches!(c, b'Z' | b'z' | b'+' | b'-'))
        && Timestamp::parse_iso(text).is_some()
}

/// Java's `Number.intValue()`/`longValue()` family over a JSON number.
fn number_as_i64(n: &Number) -> i64 {
    n.as_i64()
        .or_else(|| n.as_u64().map(|u| u as i64))
        .unwrap_or_else(|| n.as_f64().map_or(0, |f| f as i64))
}

/// Converts a request value with an explicit REST type, as Flowable's converters do.
/// A null value stays null whatever the type.
pub fn from_rest_typed(name: &str, type_name: &str, value: &Value) -> Result<VariableValue, CoreError> {
    let text = || value.as_str();
    let number = || match value {
        Value::Number(n) => Some(n),
        _ => None,
    };
    let fail = |message: &str| Err(CoreError::invalid(message));
    let known = matches!(
        type_name,
        "string"
            | "integer"
            | "short"
            | "long"
            | "double"
            | "boolean"
            | "date"
            | "instant"
            | "localDate"
            | "localDateTime"
            | "bigDecimal"
            | "bigInteger"
            | "uuid"
            | "json"
    );
    if !known {
        return Err(CoreError::invalid(format!(
            "Variable '{name}' has unsupported type: '{type_name}'."
        )));
    }
    if value.is_null() {
        return Ok(VariableValue::Null);
    }
    let not_a = |what: &str, t: &str| {
        Err(CoreError::invalid(format!(
            "The given variable value is not {what}: '{t}'"
        )))
    };
    match type_name {
        "string" => match text() {
            Some(s) => Ok(VariableValue::String(s.to_string())),
            None => fail("Converter can only convert strings"),
        },
        "integer" => match number() {
            Some(n) => Ok(VariableValue::Integer(number_as_i64(n) as i32)),
            None => fail("Converter can only convert integers"),
        },
        "short" => match number() {
            Some(n) => Ok(VariableValue::Short(number_as_i64(n) as i16)),
            None => fail("Converter can only convert shorts"),
        },
        "long" => match number() {
            Some(n) => Ok(VariableValue::Long(number_as_i64(n))),
            None => fail("Converter can only convert longs"),
        },
        "double" => match number() {
            Some(n) => Ok(VariableValue::Double(n.as_f64().unwrap_or(0.0))),
            None => fail("Converter can only convert doubles"),
        },
        "boolean" => match value {
            Value::Bool(b) => Ok(VariableValue::Boolean(*b)),
            _ => fail("Converter can only convert booleans"),
        },
        "date" => match text() {
            Some(t) => Timestamp::parse_iso(t)
                .map(VariableValue::Date)
                .map_or_else(|| not_a("a date", t), Ok),
            None => fail("Converter can only convert string to date"),
        },
        "instant" => match text() {
            Some(t) if t.len() > 10 => Timestamp::parse_iso(t)
                .map(VariableValue::Instant)
                .map_or_else(|| not_a("an instant", t), Ok),
            Some(t) => not_a("an instant", t),
            None => fail("Converter can only convert string to instant"),
        },
        "localDate" => match text() {
            Some(t) if is_local_date(t) => Ok(VariableValue::LocalDate(t.to_string())),
            Some(t) => not_a("a local date", t),
            None => fail("Converter can only convert string to local date"),
        },
        "localDateTime" => match text() {
            Some(t) if is_local_date_time(t) => Ok(VariableValue::LocalDateTime(t.to_string())),
            Some(t) => not_a("a local date time", t),
            None => fail("Converter can only convert string to local date time"),
        },
        "bigDecimal" => {
            let t = match value {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            };
            if is_decimal(&t) {
                Ok(VariableValue::BigDecimal(t))
            } else {
                not_a("a big decimal", &t)
            }
        }
        "bigInteger" => {
            let t = match value {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            };
            if is_integer(&t) {
                Ok(VariableValue::BigInteger(t))
            } else {
                not_a("a big integer", &t)
            }
        }
        "uuid" => match text() {
            Some(t) if is_uuid(t) => Ok(VariableValue::Uuid(t.to_ascii_lowercase())),
            Some(t) => not_a("a uuid", t),
            None => not_a("a uuid", &value.to_string()),
        },
        // Objects and arrays are JSON documents; plain values stay plain (Flowable's
        // JsonObjectRestVariableConverter passes them through).
        _ => match value {
            Value::Object(_) | Value::Array(_) => Ok(VariableValue::Json(value.clone())),
            other => Ok(infer(other)),
        },
    }
}

/// Converts a request value, typed or not.
pub fn from_rest(name: &str, type_name: Option<&str>, value: &Value) -> Result<VariableValue, CoreError> {
    match type_name {
        Some(t) => from_rest_typed(name, t, value),
        None => Ok(infer(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpm_compat_model::Blob;
    use serde_json::json;

    const URL: &str = "http://h/flowable-rest/service/runtime/process-instances/7/variables/v/data";

    fn render(value: VariableValue) -> Value {
        serde_json::to_value(to_rest(&Variable::new("v", value), Some("local"), || URL.into())).expect("json")
    }

    #[test]
    fn renders_every_type() {
        let t = Timestamp::parse_iso("2025-11-24T13:16:00.123Z").expect("date");
        let cases = vec![
            (
                VariableValue::Null,
                json!({"name": "v", "value": null, "scope": "local"}),
            ),
            (
                VariableValue::String("s".into()),
                json!({"name": "v", "type": "string", "value": "s", "scope": "local"}),
            ),
            (
                VariableValue::Short(3),
                json!({"name": "v", "type": "short", "value": 3, "scope": "local"}),
            ),
            (
                VariableValue::Integer(123),
                json!({"name": "v", "type": "integer", "value": 123, "scope": "local"}),
            ),
            (
                VariableValue::Long(1 << 40),
                json!({"name": "v", "type": "long", "value": 1_099_511_627_776i64, "scope": "local"}),
            ),
            (
                VariableValue::Double(1.5),
                json!({"name": "v", "type": "double", "value": 1.5, "scope": "local"}),
            ),
            (
                VariableValue::Boolean(true),
                json!({"name": "v", "type": "boolean", "value": true, "scope": "local"}),
            ),
            (
                VariableValue::Date(t),
                json!({"name": "v", "type": "date", "value": "2025-11-24T13:16:00.123Z", "scope": "local"}),
            ),
            (
                VariableValue::Instant(t),
                json!({"name": "v", "type": "instant", "value": "2025-11-24T13:16:00.123Z", "scope": "local"}),
            ),
            (
                VariableValue::LocalDate("2025-11-24".into()),
                json!({"name": "v", "type": "localDate", "value": "2025-11-24", "scope": "local"}),
            ),
            (
                VariableValue::LocalDateTime("2025-11-24T13:16:01".into()),
                json!({"name": "v", "type": "localDateTime", "value": "2025-11-24T13:16:01", "scope": "local"}),
            ),
            (
                VariableValue::BigDecimal("25.67".into()),
                json!({"name": "v", "type": "bigDecimal", "value": "25.67", "scope": "local"}),
            ),
            (
                VariableValue::BigInteger("123456789012345678901234567890".into()),
                json!({"name": "v", "type": "bigInteger", "value": "123456789012345678901234567890", "scope": "local"}),
            ),
            (
                VariableValue::Uuid("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
                json!({"name": "v", "type": "uuid", "value": "0f8fad5b-d9cb-469f-a165-70867728950e", "scope": "local"}),
            ),
            (
                VariableValue::Json(json!({"a": [1, 2]})),
                json!({"name": "v", "type": "json", "value": {"a": [1, 2]}, "scope": "local"}),
            ),
            (
                VariableValue::Binary(Blob {
                    data: vec![1, 2],
                    content_type: Some("image/png".into()),
                }),
                json!({"name": "v", "type": "binary", "value": null, "valueUrl": URL, "scope": "local"}),
            ),
            (
                VariableValue::Serializable(Blob {
                    data: vec![0xac, 0xed],
                    content_type: None,
                }),
                json!({"name": "v", "type": "serializable", "value": null, "valueUrl": URL, "scope": "local"}),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(render(value.clone()), want, "{value:?}");
        }
        let null_scope = serde_json::to_value(to_rest(
            &Variable::new("v", VariableValue::Integer(1)),
            None,
            || URL.into(),
        ))
        .expect("json");
        assert_eq!(
            null_scope,
            json!({"name": "v", "type": "integer", "value": 1, "scope": null})
        );
    }

    #[test]
    fn infers_untyped_values() {
        assert_eq!(infer(&json!("x")), VariableValue::String("x".into()));
        assert_eq!(infer(&json!(123)), VariableValue::Integer(123));
        assert_eq!(infer(&json!(-2147483648i64)), VariableValue::Integer(i32::MIN));
        assert_eq!(infer(&json!(2147483648i64)), VariableValue::Long(2_147_483_648));
        assert_eq!(
            infer(&json!(u64::MAX)),
            VariableValue::BigInteger("18446744073709551615".into())
        );
        assert_eq!(infer(&json!(1.25)), VariableValue::Double(1.25));
        assert_eq!(infer(&json!(false)), VariableValue::Boolean(false));
        assert_eq!(infer(&Value::Null), VariableValue::Null);
        assert_eq!(infer(&json!({"a": 1})), VariableValue::Json(json!({"a": 1})));
        assert_eq!(infer(&json!([1])), VariableValue::Json(json!([1])));
    }

    #[test]
    fn converts_typed_values() {
        let ok = |t: &str, v: Value| from_rest("v", Some(t), &v).expect(t);
        assert_eq!(ok("string", json!("s")), VariableValue::String("s".into()));
        assert_eq!(ok("integer", json!(12.9)), VariableValue::Integer(12));
        assert_eq!(ok("short", json!(7)), VariableValue::Short(7));
        assert_eq!(ok("long", json!(7)), VariableValue::Long(7));
        assert_eq!(ok("double", json!(7)), VariableValue::Double(7.0));
        assert_eq!(ok("boolean", json!(true)), VariableValue::Boolean(true));
        assert_eq!(
            ok("date", json!("2020-01-02")),
            VariableValue::Date(Timestamp::parse_iso("2020-01-02T00:00:00Z").expect("date"))
        );
        assert_eq!(
            ok("date", json!("2020-01-02T10:00:00+01:00")),
            VariableValue::Date(Timestamp::parse_iso("2020-01-02T09:00:00Z").expect("date"))
        );
        assert_eq!(
            ok("instant", json!("2020-01-02T10:00:00.123Z")),
            VariableValue::Instant(Timestamp::parse_iso("2020-01-02T10:00:00.123Z").expect("date"))
        );
        assert_eq!(
            ok("localDate", json!("2020-01-02")),
            VariableValue::LocalDate("2020-01-02".into())
        );
        assert_eq!(
            ok("localDateTime", json!("2020-01-02T10:00:05")),
            VariableValue::LocalDateTime("2020-01-02T10:00:05".into())
        );
        assert_eq!(
            ok("bigDecimal", json!("25.67")),
            VariableValue::BigDecimal("25.67".into())
        );
        assert_eq!(
            ok("bigDecimal", json!(25.5)),
            VariableValue::BigDecimal("25.5".into())
        );
        assert_eq!(
            ok("bigInteger", json!(12)),
            VariableValue::BigInteger("12".into())
        );
        assert_eq!(
            ok("uuid", json!("0F8FAD5B-D9CB-469F-A165-70867728950E")),
            VariableValue::Uuid("0f8fad5b-d9cb-469f-a165-70867728950e".into())
        );
        assert_eq!(ok("json", json!({"a": 1})), VariableValue::Json(json!({"a": 1})));
        assert_eq!(ok("json", json!("plain")), VariableValue::String("plain".into()));
        assert_eq!(ok("integer", Value::Null), VariableValue::Null);
    }

    #[test]
    fn rejects_mismatched_values() {
        let err = |t: &str, v: Value| match from_rest("v", Some(t), &v) {
            Err(CoreError::Invalid { message }) => message,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(err("string", json!(1)), "Converter can only convert strings");
        assert_eq!(err("integer", json!("1")), "Converter can only convert integers");
        assert_eq!(err("short", json!("1")), "Converter can only convert shorts");
        assert_eq!(err("long", json!(true)), "Converter can only convert longs");
        assert_eq!(err("double", json!("x")), "Converter can only convert doubles");
        assert_eq!(
            err("boolean", json!("true")),
            "Converter can only convert booleans"
        );
        assert_eq!(err("date", json!(1)), "Converter can only convert string to date");
        assert_eq!(
            err("date", json!("nope")),
            "The given variable value is not a date: 'nope'"
        );
        assert_eq!(
            err("instant", json!("2020-01-01")),
            "The given variable value is not an instant: '2020-01-01'"
        );
        assert_eq!(
            err("localDate", json!("2020-1-1")),
            "The given variable value is not a local date: '2020-1-1'"
        );
        assert_eq!(
            err("bigDecimal", json!("1,5")),
            "The given variable value is not a big decimal: '1,5'"
        );
        assert_eq!(
            err("bigInteger", json!("1.5")),
            "The given variable value is not a big integer: '1.5'"
        );
        assert_eq!(
            err("uuid", json!("x")),
            "The given variable value is not a uuid: 'x'"
        );
        assert_eq!(
            err("binary", json!("x")),
            "Variable 'v' has unsupported type: 'binary'."
        );
        assert_eq!(
            err("money", json!(1)),
            "Variable 'v' has unsupported type: 'money'."
        );
    }
}
