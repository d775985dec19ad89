//! The webMethods Integration Server dialect: the ten services of
//! `pub.monitor.integrationProcessLogging` (seed 000 and Software AG's "webMethods Monitor
//! Built-in Services Reference"; sources in fixtures/webmethods/README.md), called through
//! Integration Server's `/invoke` directive, over the core's integration processes.
//!
//! Pure translation, like every adapter: [`WebMethods::parse`](Adapter::parse) reads the
//! pipeline from the request and turns the service call into one neutral command;
//! [`WebMethods::render`](Adapter::render) answers the pipeline after the service.
//!
//! # The invoke directive
//! - `GET|POST /invoke/pub.monitor.integrationProcessLogging/<service>`; service names are
//!   case-sensitive; any other service is a service exception.
//! - Inputs: the query string, and a POST body: form-urlencoded, JSON
//!   (`application/json`, an object) or IData XML (`text/xml`/`application/xml`,
//!   `IDataXMLCoder`); other content types are refused (415).
//! - Output: by `Accept` (`application/json`, `text/xml`/`application/xml`, `text/html`), else
//!   by the request's content handler: JSON for JSON, IData XML for XML, and the CGI handler's
//!   HTML table for a form or a GET. The output is the whole pipeline: the inputs and the
//!   service's outputs.
//! - Basic authentication against the user directory (401 with a `Basic` challenge).
//!
//! # Outcomes
//! - Success: HTTP 200, `result` `"success"` (`generateProcessInstanceID`: `processInstanceID`).
//! - Business failures (unknown process key or instance, duplicate instance or step, a step
//!   without its metadata, an invalid status code, an ended instance): HTTP 200 with the
//!   failure's text in `result`, as these services report them.
//! - Service exceptions (a missing required input, a wrong type, an input out of its declared
//!   range, unreadable input, an unknown service): HTTP 500 with `$error`, `$errorType`,
//!   `$errorDump` and the `$errorInfo` record (in the answer's format); an unknown service is an
//!   `UnknownServiceException` named by the service, a missing input
//!   `[ISS.0086.9249] Missing Parameter: <name>`. Bad credentials: 401
//!   (`WWW-Authenticate: Basic realm="webMethods"`), no body.
//!
//! # Mapping
//! A process definition is a core integration definition (key = `processKey`, name =
//! `processLabel`, one task per step); `processInstanceID` is the instance's business key;
//! Monitor's numeric statuses map to core states ([`services::STATUSES`]), their labels are
//! the business status; step instances are activity records with their iteration and status;
//! logged fields are instance variables (string, number, date).

pub mod pipeline;
pub mod services;

use bpm_compat_model::{
    Adapter, AuthScheme, Command, CoreError, DefinitionSelector, ErrorCode, Missing, Outcome, RequestCtx,
};
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use serde_json::Value;

use pipeline::Pipeline;
use services::{Service, FOLDER};

/// The representation of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
    /// The HTML table Integration Server's CGI handler answers form and GET requests with.
    Html,
}

/// One service call: the service, its input pipeline and the answer's format.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub service: Service,
    pub pipeline: Pipeline,
    pub format: Format,
}

/// The webMethods dialect. Needs no configuration.
#[derive(Debug, Clone, Default)]
pub struct WebMethods;

const JSON: &str = "application/json; charset=UTF-8";
const XML: &str = "text/xml; charset=UTF-8";
const HTML: &str = "text/html; charset=UTF-8";

fn essence(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn header_value(req: &Request<Bytes>, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn is_xml(media: &str) -> bool {
    matches!(media, "text/xml" | "application/xml")
}

/// The answer's format: by `Accept`, then by the handler of the request's content type: JSON
/// for JSON, IData XML for XML, and for a form or a GET the HTML table of the CGI handler.
pub fn format(req: &Request<Bytes>) -> Format {
    if let Some(accept) = header_value(req, header::ACCEPT) {
        for media in accept.split(',').map(essence) {
            match media.as_str() {
                "application/json" => return Format::Json,
                "text/html" => return Format::Html,
                m if is_xml(m) => return Format::Xml,
                _ => {}
            }
        }
    }
    match header_value(req, header::CONTENT_TYPE).map(essence) {
        Some(ct) if is_xml(&ct) => Format::Xml,
        Some(ct) if ct == "application/json" => Format::Json,
        _ => Format::Html,
    }
}

/// The input pipeline: query parameters, then the body's.
fn read_pipeline(req: &Request<Bytes>) -> Result<Pipeline, CoreError> {
    let mut p = pipeline::from_pairs(req.uri().query().unwrap_or_default()).map_err(CoreError::invalid)?;
    let body = req.body();
    if req.method() == Method::POST && !body.iter().all(u8::is_ascii_whitespace) {
        let ct = header_value(req, header::CONTENT_TYPE).unwrap_or("application/x-www-form-urlencoded");
        let from_body = match essence(ct).as_str() {
            "application/x-www-form-urlencoded" => {
                let text = std::str::from_utf8(body)
                    .map_err(|_| CoreError::invalid("The form body is not UTF-8"))?;
                pipeline::from_pairs(text)
            }
            "application/json" => pipeline::from_json(body),
            m if is_xml(m) => pipeline::from_idata_xml(body),
            _ => {
                return Err(CoreError::UnsupportedMedia {
                    content_type: ct.to_owned(),
                })
            }
        }
        .map_err(CoreError::invalid)?;
        p.extend(from_body);
    }
    Ok(p)
}

impl Adapter for WebMethods {
    type Op = Op;

    fn name(&self) -> &'static str {
        "webmethods"
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Basic
    }

    fn op_name(&self, op: &Op) -> &'static str {
        op.service.name()
    }

    fn parse(&self, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<(Op, Command), CoreError> {
        let path = ctx.path.split('?').next().unwrap_or_default();
        let service = match path.split_once('/') {
            Some((folder, name)) if folder == FOLDER && *req.method() != Method::DELETE => {
                Service::by_name(name)
            }
            _ => None,
        };
        let Some(service) = service.filter(|_| matches!(*req.method(), Method::GET | Method::POST)) else {
            // Integration Server names the service `folder:service`, the last `/` its colon.
            let name = match path.rsplit_once('/') {
                Some((folder, service)) => format!("{folder}:{service}"),
                None => path.to_owned(),
            };
            return Err(CoreError::Unsupported { operation: name });
        };
        let pipeline = read_pipeline(req)?;
        let command = services::command(service, &pipeline, ctx.user.clone())?;
        Ok((
            Op {
                service,
                pipeline,
                format: format(req),
            },
            command,
        ))
    }

    fn render(&self, op: Op, result: Result<Outcome, CoreError>, ctx: &RequestCtx) -> Response<Bytes> {
        let mut p = op.pipeline;
        match result {
            Ok(Outcome::Id(id)) if op.service == Service::GenerateProcessInstanceId => {
                p.insert("processInstanceID".into(), Value::String(id));
            }
            Ok(_) => {
                p.insert("result".into(), Value::from("success"));
            }
            Err(err) if err.is_refusal() => {
                p.insert("result".into(), Value::from(failure_text(&err)));
            }
            Err(err) => return exception(&err, op.format, Some(op.service), ctx),
        }
        respond(StatusCode::OK, &p, op.format)
    }

    fn render_error(&self, err: CoreError, ctx: &RequestCtx) -> Response<Bytes> {
        exception(&err, Format::Json, None, ctx)
    }

    // Input errors know the request: their answer takes its format.
    fn parse_error(&self, err: CoreError, req: &Request<Bytes>, ctx: &RequestCtx) -> Response<Bytes> {
        exception(&err, format(req), None, ctx)
    }
}

/// A business failure's text (Integration Server's own wording is not public).
fn failure_text(err: &CoreError) -> String {
    match err {
        CoreError::NotFound(Missing::Definition(DefinitionSelector::Key { key, .. })) => {
            format!("process definition '{key}' not found")
        }
        CoreError::NotFound(Missing::InstanceText(id)) => format!("process instance '{id}' not found"),
        other => other.to_string(),
    }
}

fn respond(status: StatusCode, p: &Pipeline, format: Format) -> Response<Bytes> {
    let (bytes, ct) = match format {
        Format::Json => (serde_json::to_vec(p).unwrap_or_else(|_| b"{}".to_vec()), JSON),
        Format::Xml => (pipeline::to_idata_xml(p), XML),
        Format::Html => (pipeline::to_html(p).into_bytes(), HTML),
    };
    let mut resp = Response::new(Bytes::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

/// A service exception as the invoke directive answers it: HTTP 500 (401 for credentials)
/// with `$error`, `$errorType`, `$errorDump`, `$localizedError` and the `$errorInfo` record
/// that repeats them with the message id, service, user and time.
fn exception(err: &CoreError, format: Format, service: Option<Service>, ctx: &RequestCtx) -> Response<Bytes> {
    if matches!(err, CoreError::Unauthorized) {
        // Integration Server: `401 [ISS.0084.9001] Invalid credentials`, no body.
        let mut resp = Response::new(Bytes::new());
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"webMethods\""),
        );
        return resp;
    }
    let status = match err.code() {
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let (error_type, message_id, message) = match err {
        // The message of an unknown service is its name, without a message id.
        CoreError::Unsupported { operation } => (
            "com.wm.app.b2b.server.UnknownServiceException",
            None,
            operation.clone(),
        ),
        CoreError::Unavailable { .. } | CoreError::Internal { .. } => (
            "com.wm.app.b2b.server.ServiceException",
            None,
            format!("Internal error (request {})", ctx.request_id),
        ),
        CoreError::Invalid { message } if message.starts_with("[ISS.") => (
            "com.wm.app.b2b.server.ServiceException",
            message[1..].split(']').next().map(str::to_owned),
            message.clone(),
        ),
        other => ("com.wm.app.b2b.server.ServiceException", None, other.to_string()),
    };
    let dump = format!("{error_type}: {message}");
    let mut info = Pipeline::new();
    info.insert("$details".into(), Value::Null);
    info.insert("$error".into(), Value::from(message.clone()));
    info.insert("$errorDump".into(), Value::from(dump.clone()));
    info.insert("$errorMsgId".into(), message_id.map_or(Value::Null, Value::from));
    info.insert("$errorType".into(), Value::from(error_type));
    info.insert("$localizedError".into(), Value::from(message.clone()));
    if let Some(s) = service {
        info.insert("$service".into(), Value::from(format!("{FOLDER}:{}", s.name())));
    }
    info.insert("$time".into(), Value::from(ctx.now.to_java_date()));
    info.insert("$user".into(), ctx.user.clone().map_or(Value::Null, Value::from));
    let mut p = Pipeline::new();
    p.insert("$error".into(), Value::from(message));
    p.insert("$errorDump".into(), Value::from(dump));
    p.insert("$errorInfo".into(), Value::Object(info));
    p.insert("$errorType".into(), Value::from(error_type));
    respond(status, &p, format)
}
