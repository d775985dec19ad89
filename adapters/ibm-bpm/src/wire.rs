//! IBM's envelopes, JSON and XML: `{"status":"200","data":…}` on success,
//! `{"status":"error","Data":{…}}` on errors (capital `Data`), `bpm:ResponseData` and
//! `RestRuntimeException` in XML (seed 003's schemas), plus the conventions every wle/v1 answer
//! follows: `federationMode=true` drops the wrapper, `callback=` wraps JSON (JSONP).

use bpm_compat_model::{Clash, CoreError, ErrorCode, Missing};
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde_json::{json, Map, Value};

/// The representation the client asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shape {
    pub xml: bool,
    /// `federationMode=true`: the payload without `{status, data}`.
    pub federation: bool,
    /// `callback=<fn>`: JSONP.
    pub callback: Option<String>,
}

const JSON: &str = "application/json;charset=UTF-8";
const XML: &str = "application/xml;charset=UTF-8";
const JAVASCRIPT: &str = "application/javascript;charset=UTF-8";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A JSON value as the children of an XML element: objects are `cmn:Map` items (`item/@key`
/// with a typed `value`), lists repeat the element, scalars are text.
fn xml_map(m: &Map<String, Value>, out: &mut String) {
    for (k, v) in m {
        match v {
            Value::Null => out.push_str(&format!("<item key=\"{}\"/>", esc(k))),
            other => {
                out.push_str(&format!("<item key=\"{}\">", esc(k)));
                xml_typed("value", other, out);
                out.push_str("</item>");
            }
        }
    }
}

fn xml_typed(tag: &str, v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str(&format!("<{tag} xsi:nil=\"true\"/>")),
        Value::Bool(b) => out.push_str(&format!("<{tag} xsi:type=\"xs:boolean\">{b}</{tag}>")),
        Value::Number(n) => {
            let t = if n.is_f64() { "xs:double" } else { "xs:long" };
            out.push_str(&format!("<{tag} xsi:type=\"{t}\">{n}</{tag}>"));
        }
        Value::String(s) => out.push_str(&format!("<{tag} xsi:type=\"xs:string\">{}</{tag}>", esc(s))),
        Value::Object(m) => {
            out.push_str(&format!("<{tag} xsi:type=\"cmn:Map\">"));
            xml_map(m, out);
            out.push_str(&format!("</{tag}>"));
        }
        Value::Array(items) => {
            out.push_str(&format!("<{tag} xsi:type=\"cmn:List\">"));
            for item in items {
                xml_typed("value", item, out);
            }
            out.push_str(&format!("</{tag}>"));
        }
    }
}

/// The fields of a payload object as XML elements; `maps` names the fields that are maps.
fn xml_fields(m: &Map<String, Value>, maps: &[&str], out: &mut String) {
    for (k, v) in m {
        match v {
            Value::Object(inner) if maps.contains(&k.as_str()) => {
                out.push_str(&format!("<{k} xsi:type=\"cmn:Map\">"));
                xml_map(inner, out);
                out.push_str(&format!("</{k}>"));
            }
            Value::Object(inner) => {
                out.push_str(&format!("<{k}>"));
                xml_fields(inner, maps, out);
                out.push_str(&format!("</{k}>"));
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(inner) => {
                            out.push_str(&format!("<{k}>"));
                            xml_fields(inner, maps, out);
                            out.push_str(&format!("</{k}>"));
                        }
                        Value::Null => out.push_str(&format!("<{k}/>")),
                        other => out.push_str(&format!("<{k}>{}</{k}>", esc(&text(other)))),
                    }
                }
            }
            Value::Null => out.push_str(&format!("<{k} xsi:nil=\"true\"/>")),
            other => out.push_str(&format!("<{k}>{}</{k}>", esc(&text(other)))),
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn respond(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn json_out(status: StatusCode, body: &Value, shape: &Shape) -> Response<Bytes> {
    let text = body.to_string();
    match &shape.callback {
        Some(f) => respond(status, format!("{f}({text})").into_bytes(), JAVASCRIPT),
        None => respond(status, text.into_bytes(), JSON),
    }
}

const NAMESPACES: &str = "xmlns:bpm=\"http://rest.bpm.ibm.com/v1/data\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" \
xmlns:cmn=\"http://rest.bpm.ibm.com/v1/data/common\" \
xmlns:svc=\"http://rest.bpm.ibm.com/v1/data/service\"";

/// A success: `payload` in the envelope (or alone in federation mode). `xml_type` names the
/// payload's schema type (`svc:ServiceRunModel`), `maps` its map-typed fields.
pub fn success(payload: Value, xml_type: &str, maps: &[&str], shape: &Shape) -> Response<Bytes> {
    if shape.xml {
        let Value::Object(m) = &payload else {
            return respond(StatusCode::OK, Vec::new(), XML);
        };
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        if shape.federation {
            out.push_str(&format!("<bpm:Data {NAMESPACES} xsi:type=\"{xml_type}\">"));
            xml_fields(m, maps, &mut out);
            out.push_str("</bpm:Data>");
        } else {
            out.push_str(&format!("<bpm:ResponseData {NAMESPACES}><status>200</status>"));
            out.push_str(&format!("<data xsi:type=\"{xml_type}\">"));
            xml_fields(m, maps, &mut out);
            out.push_str("</data></bpm:ResponseData>");
        }
        return respond(StatusCode::OK, out.into_bytes(), XML);
    }
    let body = if shape.federation {
        payload
    } else {
        json!({"status": "200", "data": payload})
    };
    json_out(StatusCode::OK, &body, shape)
}

/// One of IBM's error messages: status, message id, text, parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IbmError {
    pub status: StatusCode,
    pub number: String,
    pub text: String,
    pub parameters: Vec<String>,
    pub exception_type: &'static str,
}

const REST_EXCEPTION: &str = "com.ibm.bpm.wle.api.rest.exception.RestException";

impl IbmError {
    pub fn new(
        status: StatusCode,
        number: &str,
        text: impl Into<String>,
        parameters: Vec<String>,
    ) -> IbmError {
        IbmError {
            status,
            number: number.to_owned(),
            text: text.into(),
            parameters,
            exception_type: REST_EXCEPTION,
        }
    }
}

/// bpm-compat's errors in IBM's words: CWTBG message ids (vendor notes A.6).
pub fn ibm_error(err: &CoreError) -> IbmError {
    use StatusCode as S;
    let e = IbmError::new;
    match err {
        CoreError::NotFound(Missing::Definition(sel)) => {
            let name = match sel {
                bpm_compat_model::DefinitionSelector::Alias { name, .. } => name.clone(),
                other => format!("{other:?}"),
            };
            e(
                S::NOT_FOUND,
                "CWTBG0057E",
                format!("Service '{name}' does not exist."),
                vec![name],
            )
        }
        CoreError::NotFound(Missing::Instance(id)) => e(
            S::NOT_FOUND,
            "CWTBG0059E",
            format!("The instance with the ID '@{id}' could not be found."),
            vec![format!("@{id}")],
        ),
        CoreError::NotFound(Missing::InstanceText(t)) => e(
            S::NOT_FOUND,
            "CWTBG0059E",
            format!("The instance with the ID '{t}' could not be found."),
            vec![t.clone()],
        ),
        CoreError::NotFound(Missing::Task(id)) => e(
            S::NOT_FOUND,
            "CWTBG0048E",
            format!("The task with the ID '{id}' could not be found."),
            vec![id.to_string()],
        ),
        CoreError::NotFound(Missing::Variable { name, .. }) => e(
            S::BAD_REQUEST,
            "CWTBG0543E",
            format!("The variable '{name}' does not exist."),
            vec![name.clone()],
        ),
        CoreError::NotFound(other) => e(S::NOT_FOUND, "CWTBG0013E", format!("{other}."), Vec::new()),
        CoreError::Conflict(Clash::Stale(_)) => e(S::CONFLICT, "CWTBG0014E", format!("{err}."), Vec::new()),
        CoreError::Conflict(_) | CoreError::NotAllowed { .. } => e(
            S::CONFLICT,
            "CWTBG0014E",
            format!("The current state does not allow the action: {err}."),
            Vec::new(),
        ),
        CoreError::ProcessFailure { message } => e(
            S::INTERNAL_SERVER_ERROR,
            "CWTBG0068E",
            format!("The service could not run: {message}"),
            Vec::new(),
        ),
        // The dialect's own checks carry their message id: `CWTBGnnnnE: text`.
        CoreError::Invalid { message } => match message.split_once(": ") {
            Some((id, _)) if id.starts_with("CWTBG") && id.len() == 10 => {
                e(S::BAD_REQUEST, id, message.clone(), Vec::new())
            }
            _ => e(S::BAD_REQUEST, "CWTBG0012E", message.clone(), Vec::new()),
        },
        CoreError::Unauthorized => e(
            S::UNAUTHORIZED,
            "CWTBG0549E",
            "The user is not authorized to perform the action.".to_owned(),
            Vec::new(),
        ),
        CoreError::Forbidden { message } => match message.split_once(": ") {
            Some((id, _)) if id.starts_with("CWTBG") && id.len() == 10 => {
                e(S::FORBIDDEN, id, message.clone(), Vec::new())
            }
            _ => e(S::FORBIDDEN, "CWTBG0549E", message.clone(), Vec::new()),
        },
        CoreError::NotAcceptable => e(
            S::NOT_ACCEPTABLE,
            "CWTBG0539E",
            "The request cannot produce the requested media type.".to_owned(),
            Vec::new(),
        ),
        CoreError::UnsupportedMedia { content_type } => e(
            S::UNSUPPORTED_MEDIA_TYPE,
            "CWTBG0012E",
            format!("The content type '{content_type}' is not supported."),
            vec![content_type.clone()],
        ),
        CoreError::TooLarge { .. } => e(S::PAYLOAD_TOO_LARGE, "CWTBG0012E", format!("{err}."), Vec::new()),
        CoreError::Unsupported { operation } => e(
            S::NOT_FOUND,
            "CWTBG0013E",
            format!("The resource '{operation}' does not exist."),
            vec![operation.clone()],
        ),
        CoreError::Unavailable { .. } | CoreError::Internal { .. } => e(
            match err.code() {
                ErrorCode::Unavailable => S::SERVICE_UNAVAILABLE,
                _ => S::INTERNAL_SERVER_ERROR,
            },
            "CWTBG0000E",
            "An internal error occurred.".to_owned(),
            Vec::new(),
        ),
    }
}

/// An error in IBM's envelope; `errorMessage` starts with the message id.
pub fn error(e: &IbmError, shape: &Shape) -> Response<Bytes> {
    let message = if e.text.starts_with(&e.number) {
        e.text.clone()
    } else {
        format!("{}: {}", e.number, e.text)
    };
    let mut resp = if shape.xml {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><RestRuntimeException xmlns=\"http://rest.bpm.ibm.com/v1/data/exception\"><status>error</status><Data>",
        );
        out.push_str(&format!(
            "<status>error</status><exceptionType>{}</exceptionType><errorNumber>{}</errorNumber><errorMessage>{}</errorMessage>",
            e.exception_type,
            e.number,
            esc(&message)
        ));
        for p in &e.parameters {
            out.push_str(&format!(
                "<errorMessageParameters>{}</errorMessageParameters>",
                esc(p)
            ));
        }
        out.push_str("</Data></RestRuntimeException>");
        respond(e.status, out.into_bytes(), XML)
    } else {
        let body = json!({"status": "error", "Data": {
            "status": "error",
            "exceptionType": e.exception_type,
            "errorNumber": e.number,
            "errorMessage": message,
            "errorMessageParameters": e.parameters,
        }});
        json_out(e.status, &body, shape)
    };
    if e.status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"defaultWIMFileBasedRealm\""),
        );
    }
    resp
}
