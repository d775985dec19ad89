//! Errors in Astro Zero's data-plane shape: an HTTP 4xx/5xx status and
//! `{"resCode": "<numeric string>", "resMsg": "<message>"}`, without `result`.
//!
//! Astro Zero's resCode catalog is not public (astrozero_api_0082 shows only `405230004`, a
//! missing user task or a BP compile error, and says the rest is in the product console), so
//! bpm-compat uses this stable table, one code per neutral error code:
//!
//! | resCode | HTTP | when |
//! |---|---|---|
//! | `405230001` | 400 | bad input: malformed JSON, wrong types, a missing `name`, `states` or `action` |
//! | `405230002` | 400 | no BPM with that name (and version) |
//! | `405230003` | 404 | no such instance |
//! | `405230004` | 500 | the process cannot go on (Astro Zero's own code for a failing BP) |
//! | `405230005` | 409 | the action is not allowed in the instance's state |
//! | `405230006` | 404 | no BPM with that id (metadata API) |
//! | `405230401` | 401 | not authenticated |
//! | `405230403` | 403 | forbidden |
//! | `405230404` | 404 | no such API (unknown path or method) |
//! | `405230406` | 406 | no acceptable representation |
//! | `405230413` | 413 | request body too large |
//! | `405230415` | 415 | the body is not JSON |
//! | `405230500` | 500 | internal error (logged; the message says only that) |
//! | `405230503` | 503 | the store is unavailable |

use bpm_compat_model::{Clash, CoreError, DefinitionSelector, ErrorCode, Missing, RequestCtx};
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde::Serialize;

pub const JSON: &str = "application/json;charset=UTF-8";

/// The envelope without `result`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub res_code: String,
    pub res_msg: String,
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Bytes> {
    let bytes = serde_json::to_vec(body)
        .unwrap_or_else(|_| br#"{"resCode":"405230500","resMsg":"Internal error"}"#.to_vec());
    let mut resp = Response::new(Bytes::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

/// resCode and HTTP status of an error.
pub fn code(err: &CoreError) -> (&'static str, StatusCode) {
    match err {
        CoreError::NotFound(Missing::Definition(DefinitionSelector::Id(_))) => {
            ("405230006", StatusCode::NOT_FOUND)
        }
        CoreError::NotFound(Missing::Definition(_)) => ("405230002", StatusCode::BAD_REQUEST),
        CoreError::NotFound(Missing::Instance(_) | Missing::InstanceText(_)) => {
            ("405230003", StatusCode::NOT_FOUND)
        }
        CoreError::Conflict(
            Clash::InstanceSuspended(_) | Clash::AlreadySuspended(_) | Clash::AlreadyActive(_),
        ) => ("405230005", StatusCode::CONFLICT),
        _ => match err.code() {
            ErrorCode::NotFound => ("405230003", StatusCode::NOT_FOUND),
            ErrorCode::Conflict | ErrorCode::NotAllowed => ("405230005", StatusCode::CONFLICT),
            ErrorCode::InvalidInput => ("405230001", StatusCode::BAD_REQUEST),
            ErrorCode::Unauthorized => ("405230401", StatusCode::UNAUTHORIZED),
            ErrorCode::Forbidden => ("405230403", StatusCode::FORBIDDEN),
            ErrorCode::UnsupportedMediaType => ("405230415", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ErrorCode::NotAcceptable => ("405230406", StatusCode::NOT_ACCEPTABLE),
            ErrorCode::PayloadTooLarge => ("405230413", StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::UnsupportedOperation => ("405230404", StatusCode::NOT_FOUND),
            ErrorCode::ProcessFailure => ("405230004", StatusCode::INTERNAL_SERVER_ERROR),
            ErrorCode::Unavailable => ("405230503", StatusCode::SERVICE_UNAVAILABLE),
            ErrorCode::Internal => ("405230500", StatusCode::INTERNAL_SERVER_ERROR),
        },
    }
}

/// The message: the error's own words, except for internals (logged by the server).
pub fn message(err: &CoreError, ctx: &RequestCtx) -> String {
    match err {
        CoreError::NotFound(Missing::Definition(DefinitionSelector::Id(_))) => {
            "The BPM does not exist.".into()
        }
        CoreError::NotFound(Missing::Definition(_)) => {
            "The BPM does not exist or has no such version.".into()
        }
        CoreError::NotFound(Missing::Instance(_) | Missing::InstanceText(_)) => {
            "The BPM instance does not exist.".into()
        }
        CoreError::Conflict(Clash::AlreadySuspended(_)) => "The BPM instance is already suspended.".into(),
        CoreError::Conflict(Clash::AlreadyActive(_)) => "The BPM instance is not suspended.".into(),
        CoreError::Conflict(Clash::InstanceSuspended(_)) => "The BPM instance is suspended.".into(),
        CoreError::Unsupported { operation } => format!("No such API: {operation}"),
        CoreError::Unavailable { .. } | CoreError::Internal { .. } => {
            format!("Internal error (request {})", ctx.request_id)
        }
        other => other.to_string(),
    }
}

pub fn error_response(err: &CoreError, ctx: &RequestCtx) -> Response<Bytes> {
    let (res_code, status) = code(err);
    json_response(
        status,
        &Failure {
            res_code: res_code.into(),
            res_msg: message(err, ctx),
        },
    )
}
