//! Contract fixtures: the scenario format, placeholder substitution and the response matcher.
//!
//! A fixture is data (`fixtures/<vendor>/<group>/<case>.json`, one [`Scenario`] per file): ordered
//! steps, each a request and the response the vendor gives to it. The same files run in three
//! places: offline against an adapter's `parse` ([`run_offline`]), through the real server, and
//! against any endpoint over HTTP (the `bpm-compat contract` subcommand). This module is pure:
//! callers read the files and do the I/O.
//!
//! # Placeholders
//! Inside any string of a request or an expected response:
//! - `{{base}}`: the base URL the scenario runs against (no trailing slash);
//! - `{{any}}`: (expected side) any value, `null` included;
//! - `{{id}}`: (expected side) any non-empty string;
//! - `{{timestamp}}`: (expected side) an ISO-8601 date-time with a zone, e.g. `2025-11-24T13:16:00.123Z`;
//! - `{{bind:NAME}}`: (expected side) any non-null value, remembered as `NAME` for later use;
//! - `{{NAME}}`: the value bound as `NAME`; a string that is only `{{NAME}}` takes the bound
//!   value with its JSON type, inside a longer string the value is spliced in as text.
//!
//! Wildcards may sit inside longer strings (`"{{base}}/runtime/process-instances/{{bind:pi}}"`).
//!
//! # Comparison
//! JSON by value: object key order is ignored, extra or missing keys are mismatches, arrays
//! compare in order unless the expected array is written `{"{{unordered}}": [...]}`. Only the
//! listed headers are compared, names case-insensitively; `Content-Type` compares the media type
//! only, unless the expected value carries parameters itself.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::adapter::{Adapter, RequestCtx};
use crate::time::Timestamp;

/// The key that marks an expected array as order-insensitive.
pub const UNORDERED: &str = "{{unordered}}";
const CONTENT_TYPE: &str = "content-type";
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const MULTIPART_BOUNDARY: &str = "bpm-compat-fixture-boundary-7d1f0c";

/// One fixture file: an ordered list of request/response steps sharing bindings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub description: String,
    /// Where the expected responses come from (doc section, vendor source file or test).
    pub source: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    pub request: RequestSpec,
    pub response: ResponseSpec,
    /// The vendor answers this step from the request alone, before looking at any state
    /// (validation errors). Offline runners then require the adapter's `parse` to produce the
    /// expected response itself.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stateless: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub method: String,
    /// Below the base URL, without a leading slash.
    pub path: String,
    /// The raw query string, already percent-encoded, without `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// `false` sends the request without credentials even when the runner has some.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub auth: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<Vec<Part>>,
}

/// One part of a `multipart/form-data` body: a form field (`text`) or a file (`base64`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Part {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// The expected response. Exactly one body expectation is required, so a fixture always
/// states what the body is; `any` exists for bodies the vendor does not define (e.g. a
/// servlet container's 401 page) and must be justified in the fixture's `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub empty: bool,
    /// A PNG image (checked by its signature).
    #[serde(default, skip_serializing_if = "is_false")]
    pub png: bool,
    /// The body is not checked.
    #[serde(default, skip_serializing_if = "is_false")]
    pub any: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A request body after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody<'a> {
    None,
    Json(&'a Value),
    Text(&'a str),
    Base64(&'a str),
    Multipart(&'a [Part]),
}

/// A response body expectation after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedBody<'a> {
    Json(&'a Value),
    Text(&'a str),
    Bytes(&'a str),
    Empty,
    Png,
    Any,
}

/// A fixture that is not well-formed (as opposed to a response that does not match it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixtureError {
    #[error("step '{step}': {message}")]
    Invalid { step: String, message: String },
    #[error("placeholder {{{{{name}}}}} is not bound")]
    Unbound { name: String },
    #[error("placeholder {{{{{0}}}}} can only be used in an expected response")]
    WildcardInRequest(String),
    #[error("unterminated placeholder in '{0}'")]
    Unterminated(String),
    #[error("invalid base64: {0}")]
    Base64(String),
}

impl RequestSpec {
    pub fn body(&self) -> Result<RequestBody<'_>, String> {
        let mut bodies = Vec::new();
        if let Some(v) = &self.json {
            bodies.push(RequestBody::Json(v));
        }
        if let Some(t) = &self.text {
            bodies.push(RequestBody::Text(t));
        }
        if let Some(b) = &self.base64 {
            bodies.push(RequestBody::Base64(b));
        }
        if let Some(p) = &self.multipart {
            bodies.push(RequestBody::Multipart(p));
        }
        match bodies.len() {
            0 => Ok(RequestBody::None),
            1 => Ok(bodies.remove(0)),
            _ => Err("a request has at most one of json, text, base64, multipart".to_string()),
        }
    }
}

impl ResponseSpec {
    pub fn body(&self) -> Result<ExpectedBody<'_>, String> {
        let mut bodies = Vec::new();
        if let Some(v) = &self.json {
            bodies.push(ExpectedBody::Json(v));
        }
        if let Some(t) = &self.text {
            bodies.push(ExpectedBody::Text(t));
        }
        if let Some(b) = &self.base64 {
            bodies.push(ExpectedBody::Bytes(b));
        }
        for (flag, body) in [
            (self.empty, ExpectedBody::Empty),
            (self.png, ExpectedBody::Png),
            (self.any, ExpectedBody::Any),
        ] {
            if flag {
                bodies.push(body);
            }
        }
        match bodies.len() {
            1 => Ok(bodies.remove(0)),
            0 => Err("a response needs one of json, text, base64, empty, png, any".to_string()),
            _ => Err("a response has exactly one of json, text, base64, empty, png, any".to_string()),
        }
    }
}

/// Every scenario file (`*.json`) below `dir`, sub-directories included, in path order, named
/// by their path: what the adapters' offline fixture tests read.
pub fn load_tree(dir: &std::path::Path) -> Result<Vec<(String, Scenario)>, String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let scenario = Scenario::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((path.display().to_string(), scenario))
        })
        .collect()
}

impl Scenario {
    /// Parses and validates one fixture file's content.
    pub fn from_json(text: &str) -> Result<Scenario, String> {
        let scenario: Scenario = serde_json::from_str(text).map_err(|e| e.to_string())?;
        scenario.validate().map_err(|e| e.to_string())?;
        scenario.check_bindings().map_err(|e| e.to_string())?;
        Ok(scenario)
    }

    /// Checks what serde cannot: one body per side, known methods, parts well-formed.
    pub fn validate(&self) -> Result<(), FixtureError> {
        if self.steps.is_empty() {
            return Err(FixtureError::Invalid {
                step: String::new(),
                message: "a scenario needs at least one step".to_string(),
            });
        }
        for step in &self.steps {
            let invalid = |message: String| FixtureError::Invalid {
                step: step.name.clone(),
                message,
            };
            step.request.body().map_err(invalid)?;
            step.response.body().map_err(invalid)?;
            http::Method::from_bytes(step.request.method.as_bytes())
                .map_err(|_| invalid(format!("bad method '{}'", step.request.method)))?;
            http::StatusCode::from_u16(step.response.status)
                .map_err(|_| invalid(format!("bad status {}", step.response.status)))?;
            if step.request.path.starts_with('/') {
                return Err(invalid("path must not start with '/'".to_string()));
            }
            for part in step.request.multipart.iter().flatten() {
                if part.text.is_some() == part.base64.is_some() {
                    return Err(invalid(format!(
                        "part '{}' needs exactly one of text, base64",
                        part.name
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Scenario {
    /// Checks that every `{{NAME}}` is bound before use: in a request by an earlier step's
    /// response, in a response by an earlier step or the same response. Catches typos in
    /// hand-written fixtures before they run. `{{base}}` is always bound.
    pub fn check_bindings(&self) -> Result<(), FixtureError> {
        let mut bound: Vec<String> = Vec::new();
        for step in &self.steps {
            let refs = |strings: &[String]| -> Result<(Vec<String>, Vec<String>), FixtureError> {
                let (mut binds, mut uses) = (Vec::new(), Vec::new());
                for s in strings.iter().filter(|s| s.as_str() != UNORDERED) {
                    for token in tokenize(s)? {
                        match token {
                            Token::Bind(n) => binds.push(n),
                            Token::Var(n) => uses.push(n),
                            _ => {}
                        }
                    }
                }
                Ok((binds, uses))
            };
            let mut request_strings = vec![step.request.path.clone()];
            request_strings.extend(step.request.query.clone());
            request_strings.extend(step.request.headers.values().cloned());
            request_strings.extend(step.request.text.clone());
            if let Some(v) = &step.request.json {
                collect_strings(v, &mut request_strings);
            }
            for part in step.request.multipart.iter().flatten() {
                request_strings.extend(part.text.clone());
            }
            let (_, uses) = refs(&request_strings)?;
            if let Some(name) = uses.into_iter().find(|n| !bound.contains(n)) {
                return Err(FixtureError::Invalid {
                    step: step.name.clone(),
                    message: format!("request uses {{{{{name}}}}} before any step binds it"),
                });
            }
            let mut response_strings: Vec<String> = step.response.headers.values().cloned().collect();
            response_strings.extend(step.response.text.clone());
            if let Some(v) = &step.response.json {
                collect_strings(v, &mut response_strings);
            }
            let (binds, uses) = refs(&response_strings)?;
            bound.extend(binds);
            if let Some(name) = uses.into_iter().find(|n| !bound.contains(n)) {
                return Err(FixtureError::Invalid {
                    step: step.name.clone(),
                    message: format!("response uses {{{{{name}}}}} but nothing binds it"),
                });
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Placeholders

/// One piece of a string with placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(String),
    Base,
    Any,
    Id,
    Timestamp,
    Bind(String),
    Var(String),
}

impl Token {
    fn is_wildcard(&self) -> bool {
        matches!(self, Token::Any | Token::Id | Token::Timestamp | Token::Bind(_))
    }
}

fn tokenize(s: &str) -> Result<Vec<Token>, FixtureError> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Token::Lit(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| FixtureError::Unterminated(s.to_string()))?;
        let inner = after[..end].trim();
        out.push(match inner {
            "base" => Token::Base,
            "any" => Token::Any,
            "id" => Token::Id,
            "timestamp" => Token::Timestamp,
            _ => match inner.strip_prefix("bind:") {
                Some(name) => Token::Bind(name.trim().to_string()),
                None => Token::Var(inner.to_string()),
            },
        });
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Token::Lit(rest.to_string()));
    }
    Ok(out)
}

/// Values bound by `{{bind:NAME}}` during a scenario, plus `base`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bindings {
    base: String,
    values: BTreeMap<String, Value>,
}

impl Bindings {
    pub fn new(base_url: &str) -> Bindings {
        Bindings {
            base: base_url.trim_end_matches('/').to_string(),
            values: BTreeMap::new(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    fn text_of(&self, name: &str) -> Result<String, FixtureError> {
        match self.values.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Ok(other.to_string()),
            None => Err(FixtureError::Unbound {
                name: name.to_string(),
            }),
        }
    }

    /// Substitutes `{{base}}` and bound names in a request string; wildcards are errors.
    pub fn substitute_str(&self, s: &str) -> Result<String, FixtureError> {
        let mut out = String::new();
        for token in tokenize(s)? {
            match token {
                Token::Lit(l) => out.push_str(&l),
                Token::Base => out.push_str(&self.base),
                Token::Var(name) => out.push_str(&self.text_of(&name)?),
                Token::Any => return Err(FixtureError::WildcardInRequest("any".into())),
                Token::Id => return Err(FixtureError::WildcardInRequest("id".into())),
                Token::Timestamp => return Err(FixtureError::WildcardInRequest("timestamp".into())),
                Token::Bind(n) => return Err(FixtureError::WildcardInRequest(format!("bind:{n}"))),
            }
        }
        Ok(out)
    }

    /// Substitutes placeholders in every string of a request JSON value. A string that is only
    /// `{{NAME}}` becomes the bound value itself (keeping its JSON type).
    pub fn substitute_json(&self, v: &Value) -> Result<Value, FixtureError> {
        Ok(match v {
            Value::String(s) => {
                let tokens = tokenize(s)?;
                if let [Token::Var(name)] = tokens.as_slice() {
                    self.values
                        .get(name)
                        .cloned()
                        .ok_or_else(|| FixtureError::Unbound { name: name.clone() })?
                } else {
                    Value::String(self.substitute_str(s)?)
                }
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.substitute_json(i))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(self.substitute_str(k)?, self.substitute_json(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// The names a request refers to that are not bound yet.
    pub fn unbound_in(&self, req: &RequestSpec) -> Vec<String> {
        let mut strings: Vec<&str> = vec![&req.path];
        strings.extend(req.query.as_deref());
        strings.extend(req.headers.values().map(String::as_str));
        strings.extend(req.text.as_deref());
        let mut json_strings = Vec::new();
        if let Some(v) = &req.json {
            collect_strings(v, &mut json_strings);
        }
        for part in req.multipart.iter().flatten() {
            strings.extend(part.text.as_deref());
        }
        let mut missing = Vec::new();
        for s in strings.into_iter().chain(json_strings.iter().map(String::as_str)) {
            for token in tokenize(s).unwrap_or_default() {
                if let Token::Var(name) = token {
                    if !self.values.contains_key(&name) && !missing.contains(&name) {
                        missing.push(name);
                    }
                }
            }
        }
        missing
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            collect_strings(v, out);
        }),
        _ => {}
    }
}

/// Is `s` an ISO-8601 date-time with seconds and a zone (`Z`, `±HH:MM` or `±HHMM`)?
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let num = |range: std::ops::Range<usize>| s.get(range).and_then(|t| t.parse::<u32>().ok()).unwrap_or(99);
    if !(digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-') && digits(8..10))
    {
        return false;
    }
    if !(b.get(10) == Some(&b'T') && digits(11..13) && b.get(13) == Some(&b':') && digits(14..16)) {
        return false;
    }
    if !(b.get(16) == Some(&b':') && digits(17..19)) {
        return false;
    }
    if !((1..=12).contains(&num(5..7)) && (1..=31).contains(&num(8..10)) && num(11..13) < 24) {
        return false;
    }
    if num(14..16) > 59 || num(17..19) > 60 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &s[i..] {
        "Z" => true,
        zone => {
            let zb = zone.as_bytes();
            let sign = matches!(zb.first(), Some(b'+') | Some(b'-'));
            let hhmm = zb.len() == 5 && zb[1..].iter().all(u8::is_ascii_digit);
            let hh_mm =
                zb.len() == 6 && zb[3] == b':' && [1, 2, 4, 5].iter().all(|&j| zb[j].is_ascii_digit());
            sign && (hhmm || hh_mm)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Matching

/// One difference between an expected and an actual response, with a JSON-path-like location
/// (`status`, `header content-type`, `body`, `$.data[0].tenantId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn mismatch(path: &str, message: impl Into<String>) -> Mismatch {
    Mismatch {
        path: path.to_string(),
        message: message.into(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Matches an actual JSON value against an expected one with placeholders. Bindings made by
/// `{{bind:..}}` are added to `bindings` only when the whole value matches; otherwise the
/// mismatches are returned (all of them, in document order of the expectation).
pub fn match_json(expected: &Value, actual: &Value, bindings: &mut Bindings) -> Vec<Mismatch> {
    let mut scratch = bindings.clone();
    let mut out = Vec::new();
    match_value(expected, actual, "$", &mut scratch, &mut out);
    if out.is_empty() {
        *bindings = scratch;
    }
    out
}

fn contains_bind(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{bind:"),
        Value::Array(items) => items.iter().any(contains_bind),
        Value::Object(map) => map.values().any(contains_bind),
        _ => false,
    }
}

fn match_value(expected: &Value, actual: &Value, path: &str, b: &mut Bindings, out: &mut Vec<Mismatch>) {
    match expected {
        Value::String(s) => match_string_value(s, actual, path, b, out),
        Value::Object(map) if map.len() == 1 && map.contains_key(UNORDERED) => match map.get(UNORDERED) {
            Some(Value::Array(items)) => match_unordered(items, actual, path, b, out),
            _ => out.push(mismatch(path, "fixture error: {{unordered}} must wrap an array")),
        },
        Value::Object(map) => {
            let Value::Object(actual_map) = actual else {
                out.push(mismatch(
                    path,
                    format!("expected an object, got {}", short(actual)),
                ));
                return;
            };
            // Entries that bind go first, so `{{id}}`-like references to them in sibling
            // fields (e.g. `url`) resolve whatever the key order.
            let (binding, plain): (Vec<_>, Vec<_>) = map.iter().partition(|(_, v)| contains_bind(v));
            for (key, exp) in binding.into_iter().chain(plain) {
                let child = format!("{path}.{key}");
                match actual_map.get(key) {
                    Some(act) => match_value(exp, act, &child, b, out),
                    None => out.push(mismatch(&child, format!("missing (expected {})", short(exp)))),
                }
            }
            for (key, act) in actual_map {
                if !map.contains_key(key) {
                    out.push(mismatch(
                        &format!("{path}.{key}"),
                        format!("unexpected field, got {}", short(act)),
                    ));
                }
            }
        }
        Value::Array(items) => {
            let Value::Array(actual_items) = actual else {
                out.push(mismatch(
                    path,
                    format!("expected an array, got {}", short(actual)),
                ));
                return;
            };
            for (i, exp) in items.iter().enumerate() {
                let child = format!("{path}[{i}]");
                match actual_items.get(i) {
                    Some(act) => match_value(exp, act, &child, b, out),
                    None => out.push(mismatch(&child, format!("missing (expected {})", short(exp)))),
                }
            }
            if actual_items.len() > items.len() {
                out.push(mismatch(
                    path,
                    format!("expected {} elements, got {}", items.len(), actual_items.len()),
                ));
            }
        }
        Value::Number(n) => {
            let equal = match actual {
                Value::Number(m) => n == m || (n.as_f64().is_some() && n.as_f64() == m.as_f64()),
                _ => false,
            };
            if !equal {
                out.push(mismatch(path, format!("expected {n} got {}", short(actual))));
            }
        }
        _ => {
            if expected != actual {
                out.push(mismatch(
                    path,
                    format!("expected {} got {}", short(expected), short(actual)),
                ));
            }
        }
    }
}

fn match_unordered(items: &[Value], actual: &Value, path: &str, b: &mut Bindings, out: &mut Vec<Mismatch>) {
    let Value::Array(actual_items) = actual else {
        out.push(mismatch(
            path,
            format!("expected an array, got {}", short(actual)),
        ));
        return;
    };
    if actual_items.len() != items.len() {
        out.push(mismatch(
            path,
            format!(
                "expected {} elements (any order), got {}",
                items.len(),
                actual_items.len()
            ),
        ));
        return;
    }
    let mut used = vec![false; actual_items.len()];
    if !assign(items, actual_items, &mut used, path, b) {
        // Report the first expected element no remaining actual element matches.
        let mut used = vec![false; actual_items.len()];
        for (i, exp) in items.iter().enumerate() {
            let found = (0..actual_items.len()).find(|&j| {
                let mut trial = b.clone();
                let mut errs = Vec::new();
                !used[j] && {
                    match_value(exp, &actual_items[j], path, &mut trial, &mut errs);
                    errs.is_empty()
                }
            });
            match found {
                Some(j) => used[j] = true,
                None => {
                    out.push(mismatch(
                        &format!("{path}[*]"),
                        format!("no element matches expected[{i}] {}", short(exp)),
                    ));
                    return;
                }
            }
        }
        out.push(mismatch(
            path,
            "elements match individually but not as a one-to-one assignment",
        ));
    }
}

/// Backtracking one-to-one assignment of expected to actual elements.
fn assign(items: &[Value], actual: &[Value], used: &mut [bool], path: &str, b: &mut Bindings) -> bool {
    let Some((first, rest)) = items.split_first() else {
        return true;
    };
    for j in 0..actual.len() {
        if used[j] {
            continue;
        }
        let mut trial = b.clone();
        let mut errs = Vec::new();
        match_value(first, &actual[j], path, &mut trial, &mut errs);
        if errs.is_empty() {
            used[j] = true;
            if assign(rest, actual, used, path, &mut trial) {
                *b = trial;
                return true;
            }
            used[j] = false;
        }
    }
    false
}

fn match_string_value(pattern: &str, actual: &Value, path: &str, b: &mut Bindings, out: &mut Vec<Mismatch>) {
    let tokens = match tokenize(pattern) {
        Ok(t) => t,
        Err(e) => {
            out.push(mismatch(path, format!("fixture error: {e}")));
            return;
        }
    };
    // Whole-value placeholders match values of any JSON type.
    match tokens.as_slice() {
        [Token::Any] => return,
        [Token::Bind(name)] => {
            if actual.is_null() {
                out.push(mismatch(
                    path,
                    format!("expected a value to bind as {name}, got null"),
                ));
            } else {
                b.set(name.clone(), actual.clone());
            }
            return;
        }
        [Token::Var(name)] => {
            match b.get(name).cloned() {
                Some(v) => {
                    if v != *actual {
                        out.push(mismatch(
                            path,
                            format!("expected {} ({{{{{name}}}}}) got {}", short(&v), short(actual)),
                        ));
                    }
                }
                None => out.push(mismatch(
                    path,
                    format!("fixture error: {{{{{name}}}}} is not bound"),
                )),
            }
            return;
        }
        _ => {}
    }
    let Value::String(actual) = actual else {
        out.push(mismatch(
            path,
            format!("expected \"{pattern}\" got {}", short(actual)),
        ));
        return;
    };
    if let Err(message) = match_str(&tokens, actual, b) {
        out.push(mismatch(path, message));
    }
}

/// Matches a string against tokens; binds on success.
fn match_str(tokens: &[Token], actual: &str, b: &mut Bindings) -> Result<(), String> {
    let mut resolved = Vec::with_capacity(tokens.len());
    for t in tokens {
        resolved.push(match t {
            Token::Base => Token::Lit(b.base().to_string()),
            Token::Var(name) => match b.get(name) {
                Some(Value::String(s)) => Token::Lit(s.clone()),
                Some(other) => Token::Lit(other.to_string()),
                None => return Err(format!("fixture error: {{{{{name}}}}} is not bound")),
            },
            other => other.clone(),
        });
    }
    let mut captured = Vec::new();
    if match_tokens(&resolved, actual, &mut captured) {
        for (name, value) in captured {
            b.set(name, Value::String(value));
        }
        Ok(())
    } else {
        let pattern: String = resolved
            .iter()
            .map(|t| match t {
                Token::Lit(l) => l.clone(),
                Token::Any => "{{any}}".to_string(),
                Token::Id => "{{id}}".to_string(),
                Token::Timestamp => "{{timestamp}}".to_string(),
                Token::Bind(n) => format!("{{{{bind:{n}}}}}"),
                Token::Base | Token::Var(_) => String::new(),
            })
            .collect();
        Err(format!("expected \"{pattern}\" got \"{actual}\""))
    }
}

fn match_tokens(tokens: &[Token], s: &str, captured: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return s.is_empty();
    };
    match first {
        Token::Lit(l) => s
            .strip_prefix(l.as_str())
            .is_some_and(|tail| match_tokens(rest, tail, captured)),
        wildcard if wildcard.is_wildcard() => {
            // Try every split at a char boundary, shortest first unless last.
            let ends: Vec<usize> = s
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain([s.len()])
                .collect();
            let candidates: Box<dyn Iterator<Item = usize>> = if rest.is_empty() {
                Box::new([s.len()].into_iter())
            } else {
                Box::new([0].into_iter().chain(ends))
            };
            for end in candidates {
                let piece = &s[..end];
                let ok = match wildcard {
                    Token::Any => true,
                    Token::Id | Token::Bind(_) => !piece.is_empty(),
                    Token::Timestamp => is_timestamp(piece),
                    _ => false,
                };
                if !ok {
                    continue;
                }
                let mark = captured.len();
                if let Token::Bind(name) = wildcard {
                    captured.push((name.clone(), piece.to_string()));
                }
                if match_tokens(rest, &s[end..], captured) {
                    return true;
                }
                captured.truncate(mark);
            }
            false
        }
        _ => false,
    }
}

/// The media type of a `Content-Type` value, lower-cased, without parameters.
fn media_type(v: &str) -> String {
    v.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn normalise_params(v: &str) -> String {
    v.split(';')
        .map(|p| p.trim().to_ascii_lowercase().replace(' ', ""))
        .collect::<Vec<_>>()
        .join(";")
}

/// Matches a whole response: status, the listed headers, and the body. Returns every mismatch
/// (status first); bindings are updated only when everything matches.
pub fn match_response(
    expected: &ResponseSpec,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
    bindings: &mut Bindings,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if status != expected.status {
        out.push(mismatch(
            "status",
            format!("expected {} got {status}", expected.status),
        ));
    }
    let mut scratch = bindings.clone();
    for (name, exp) in &expected.headers {
        let key = name.to_ascii_lowercase();
        let path = format!("header {key}");
        let actual: Vec<&str> = headers
            .get_all(key.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let Some(act) = actual.first() else {
            out.push(mismatch(&path, format!("missing (expected \"{exp}\")")));
            continue;
        };
        if key == CONTENT_TYPE {
            let exp_text = match scratch.substitute_str(exp) {
                Ok(t) => t,
                Err(e) => {
                    out.push(mismatch(&path, format!("fixture error: {e}")));
                    continue;
                }
            };
            let same = if exp_text.contains(';') {
                normalise_params(&exp_text) == normalise_params(act)
            } else {
                media_type(&exp_text) == media_type(act)
            };
            if !same {
                out.push(mismatch(&path, format!("expected \"{exp_text}\" got \"{act}\"")));
            }
        } else {
            let tokens = match tokenize(exp) {
                Ok(t) => t,
                Err(e) => {
                    out.push(mismatch(&path, format!("fixture error: {e}")));
                    continue;
                }
            };
            if let Err(message) = match_str(&tokens, act, &mut scratch) {
                out.push(mismatch(&path, message));
            }
        }
    }
    match expected.body() {
        Err(e) => out.push(mismatch("body", format!("fixture error: {e}"))),
        Ok(ExpectedBody::Any) => {}
        Ok(ExpectedBody::Empty) => {
            if !body.is_empty() {
                out.push(mismatch(
                    "body",
                    format!("expected empty, got {} bytes: {}", body.len(), preview(body)),
                ));
            }
        }
        Ok(ExpectedBody::Png) => {
            if !body.starts_with(PNG_SIGNATURE) {
                out.push(mismatch(
                    "body",
                    format!("expected a PNG image, got {}", preview(body)),
                ));
            }
        }
        Ok(ExpectedBody::Bytes(b64)) => match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(bytes) if bytes == body => {}
            Ok(bytes) => out.push(mismatch(
                "body",
                format!(
                    "expected {} bytes {}, got {} bytes {}",
                    bytes.len(),
                    preview(&bytes),
                    body.len(),
                    preview(body)
                ),
            )),
            Err(e) => out.push(mismatch("body", format!("fixture error: invalid base64: {e}"))),
        },
        Ok(ExpectedBody::Text(pattern)) => match (tokenize(pattern), std::str::from_utf8(body)) {
            (Ok(tokens), Ok(text)) => {
                if let Err(message) = match_str(&tokens, text, &mut scratch) {
                    out.push(mismatch("body", message));
                }
            }
            (Err(e), _) => out.push(mismatch("body", format!("fixture error: {e}"))),
            (_, Err(_)) => out.push(mismatch(
                "body",
                format!("expected text, got bytes {}", preview(body)),
            )),
        },
        Ok(ExpectedBody::Json(exp)) => match serde_json::from_slice::<Value>(body) {
            Ok(actual) => out.extend(match_json(exp, &actual, &mut scratch)),
            Err(e) => out.push(mismatch(
                "body",
                format!("expected JSON ({e}), got {}", preview(body)),
            )),
        },
    }
    if out.is_empty() {
        *bindings = scratch;
    }
    out
}

fn preview(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) if text.chars().count() > 120 => {
            format!("\"{}...\"", text.chars().take(117).collect::<String>())
        }
        Ok(text) => format!("\"{text}\""),
        Err(_) => format!("{:02x?}", &body[..body.len().min(16)]),
    }
}

// ---------------------------------------------------------------------------------------------
// Building requests

/// A request ready to send: the runner prefixes `base`, adds credentials when `auth` is true.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltRequest {
    pub method: http::Method,
    /// Path below the base URL plus `?query` when there is one.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub auth: bool,
}

impl BuiltRequest {
    /// The full URL against `base` (no trailing slash).
    pub fn url(&self, base: &str) -> String {
        format!("{}/{}", base.trim_end_matches('/'), self.path_and_query)
    }

    /// An `http::Request` whose URI is the full URL.
    pub fn to_http(&self, base: &str) -> Result<http::Request<Bytes>, String> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.url(base));
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.body(self.body.clone()).map_err(|e| e.to_string())
    }
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Substitutes placeholders and encodes the body of a step's request.
pub fn build_request(req: &RequestSpec, bindings: &Bindings) -> Result<BuiltRequest, FixtureError> {
    let invalid = |message: String| FixtureError::Invalid {
        step: String::new(),
        message,
    };
    let method = http::Method::from_bytes(req.method.as_bytes()).map_err(|e| invalid(e.to_string()))?;
    let mut path_and_query = bindings.substitute_str(&req.path)?;
    if let Some(q) = &req.query {
        path_and_query.push('?');
        path_and_query.push_str(&bindings.substitute_str(q)?);
    }
    let mut headers = Vec::new();
    for (name, value) in &req.headers {
        headers.push((name.clone(), bindings.substitute_str(value)?));
    }
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| FixtureError::Base64(e.to_string()))
    };
    let body = match req.body().map_err(invalid)? {
        RequestBody::None => Bytes::new(),
        RequestBody::Json(v) => {
            if !has_header(&headers, CONTENT_TYPE) {
                headers.push(("Content-Type".to_string(), "application/json".to_string()));
            }
            Bytes::from(
                serde_json::to_vec(&bindings.substitute_json(v)?).map_err(|e| invalid(e.to_string()))?,
            )
        }
        RequestBody::Text(t) => Bytes::from(bindings.substitute_str(t)?),
        RequestBody::Base64(s) => Bytes::from(b64(s)?),
        RequestBody::Multipart(parts) => {
            if !has_header(&headers, CONTENT_TYPE) {
                headers.push((
                    "Content-Type".to_string(),
                    format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
                ));
            }
            let mut out = Vec::new();
            for part in parts {
                out.extend_from_slice(format!("--{MULTIPART_BOUNDARY}\r\n").as_bytes());
                let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
                if let Some(f) = &part.filename {
                    disposition.push_str(&format!("; filename=\"{f}\""));
                }
                out.extend_from_slice(disposition.as_bytes());
                out.extend_from_slice(b"\r\n");
                if let Some(ct) = &part.content_type {
                    out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                match (&part.text, &part.base64) {
                    (Some(t), _) => out.extend_from_slice(bindings.substitute_str(t)?.as_bytes()),
                    (None, Some(s)) => out.extend_from_slice(&b64(s)?),
                    (None, None) => return Err(invalid(format!("part '{}' has no content", part.name))),
                }
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{MULTIPART_BOUNDARY}--\r\n").as_bytes());
            Bytes::from(out)
        }
    };
    Ok(BuiltRequest {
        method,
        path_and_query,
        headers,
        body,
        auth: req.auth,
    })
}

// ---------------------------------------------------------------------------------------------
// The offline runner (requirement (a): adapter crates, no server, no engine)

/// What happened to one step offline.
#[derive(Debug, Clone, PartialEq)]
pub enum OfflineOutcome {
    /// `parse` rejected the request and the rendered error is exactly the expected response.
    ErrorMatched,
    /// `parse` rejected the request and the rendered error differs from the expectation
    /// (a wrong error, or a valid request refused).
    ErrorMismatch(Vec<Mismatch>),
    /// `parse` accepted the request; only the engine can produce the response.
    Parsed { op: &'static str },
    /// `parse` accepted a request the vendor rejects from the request alone (`stateless`).
    MissedStatelessError { op: &'static str },
    /// Not runnable offline: it needs values an earlier step would have bound, or it tests
    /// authentication (done by the server, not the adapter).
    Skipped { reason: String },
    /// The fixture itself is malformed.
    BadFixture(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfflineStep {
    pub name: String,
    pub outcome: OfflineOutcome,
}

impl OfflineStep {
    /// True unless the adapter demonstrably disagrees with the fixture.
    pub fn passed(&self) -> bool {
        matches!(
            self.outcome,
            OfflineOutcome::ErrorMatched | OfflineOutcome::Parsed { .. } | OfflineOutcome::Skipped { .. }
        )
    }
}

/// Runs a scenario against an adapter's `parse` (and `parse_error`), with no engine. See
/// [`run_offline_with`] to seed bindings (e.g. a plausible instance id for steps that refer to
/// an instance started by an earlier step).
pub fn run_offline<A: Adapter>(adapter: &A, scenario: &Scenario, base_url: &str) -> Vec<OfflineStep> {
    run_offline_with(adapter, scenario, Bindings::new(base_url))
}

/// What [`check_offline`] found over a set of scenarios.
#[derive(Debug, Default)]
pub struct OfflineSummary {
    /// Steps the adapter rejected with exactly the expected response.
    pub checked_errors: usize,
    /// Steps that routed and parsed (their responses need the engine).
    pub parsed: usize,
    /// `<scenario> / <step>: <outcome>` of every step that did neither.
    pub failures: Vec<String>,
}

/// Runs named scenarios through an adapter alone (see [`run_offline_with`]); ids that earlier
/// steps would have bound get `placeholder_id`, so the steps using them route and parse too.
pub fn check_offline<A: Adapter>(
    adapter: &A,
    scenarios: &[(String, Scenario)],
    base: &str,
    placeholder_id: &str,
) -> OfflineSummary {
    let mut summary = OfflineSummary::default();
    for (name, scenario) in scenarios {
        let mut bindings = Bindings::new(base);
        for step in &scenario.steps {
            for unbound in bindings.unbound_in(&step.request) {
                bindings.set(unbound, Value::String(placeholder_id.into()));
            }
        }
        for step in run_offline_with(adapter, scenario, bindings) {
            match &step.outcome {
                OfflineOutcome::ErrorMatched => summary.checked_errors += 1,
                OfflineOutcome::Parsed { .. } => summary.parsed += 1,
                OfflineOutcome::Skipped { .. } => {}
                other => summary
                    .failures
                    .push(format!("{name} / {}: {other:?}", step.name)),
            }
        }
    }
    summary
}

/// [`run_offline`] with initial bindings. Offline runs never bind from responses: a successful
/// parse has no response to bind from.
pub fn run_offline_with<A: Adapter>(
    adapter: &A,
    scenario: &Scenario,
    bindings: Bindings,
) -> Vec<OfflineStep> {
    scenario
        .steps
        .iter()
        .map(|step| OfflineStep {
            name: step.name.clone(),
            outcome: offline_step(adapter, step, &bindings),
        })
        .collect()
}

fn offline_step<A: Adapter>(adapter: &A, step: &Step, bindings: &Bindings) -> OfflineOutcome {
    if !step.request.auth {
        return OfflineOutcome::Skipped {
            reason: "authentication is checked by the server, not the adapter".to_string(),
        };
    }
    let unbound = bindings.unbound_in(&step.request);
    if !unbound.is_empty() {
        return OfflineOutcome::Skipped {
            reason: format!("needs {} from an earlier step", unbound.join(", ")),
        };
    }
    let built = match build_request(&step.request, bindings) {
        Ok(b) => b,
        Err(e) => return OfflineOutcome::BadFixture(e.to_string()),
    };
    let request = match built.to_http(bindings.base()) {
        Ok(r) => r,
        Err(e) => return OfflineOutcome::BadFixture(e),
    };
    let ctx = RequestCtx {
        now: Timestamp(0),
        request_id: 0,
        base_url: bindings.base().to_string(),
        path: built.path_and_query.split('?').next().unwrap_or("").to_string(),
        user: None,
    };
    match adapter.parse(&request, &ctx) {
        Ok((op, _command)) => {
            let op = adapter.op_name(&op);
            if step.stateless {
                OfflineOutcome::MissedStatelessError { op }
            } else {
                OfflineOutcome::Parsed { op }
            }
        }
        Err(err) => {
            let response = adapter.parse_error(err, &request, &ctx);
            let mut scratch = bindings.clone();
            let mismatches = match_response(
                &step.response,
                response.status().as_u16(),
                response.headers(),
                response.body(),
                &mut scratch,
            );
            if mismatches.is_empty() {
                OfflineOutcome::ErrorMatched
            } else {
                OfflineOutcome::ErrorMismatch(mismatches)
            }
        }
    }
}

#[cfg(test)]
mod tests;
