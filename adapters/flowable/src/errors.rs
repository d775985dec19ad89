//! Errors as Flowable answers them: `{"message": <category>, "exception": <detail>}`.
//!
//! The categories and their statuses are those of Flowable's `BaseExceptionHandlerAdvice`
//! (flowable-engine `modules/flowable-common-rest/.../exception/BaseExceptionHandlerAdvice.java`);
//! 401 comes from Spring Security (empty body, `WWW-Authenticate`), 405 from Spring MVC (we give
//! it Flowable's body shape). The mapping from [`CoreError`] is exhaustive, with the vendor's
//! exact wording per resource family.

use bpm_compat_model::{Clash, CoreError, DefinitionSelector, ErrorCode, Missing, RequestCtx};
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

use crate::routes::{self, Family};
use crate::wire::ErrorInfo;

/// The content type of every JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// Flowable's error categories (the handlers of `BaseExceptionHandlerAdvice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    Conflict,
    /// `FlowableTaskAlreadyClaimedException`: a 409 with its own message.
    TaskAlreadyClaimed,
    ContentNotSupported,
    InternalServerError,
}

impl Category {
    pub fn status(self) -> StatusCode {
        match self {
            Category::BadRequest => StatusCode::BAD_REQUEST,
            Category::Unauthorized => StatusCode::UNAUTHORIZED,
            Category::Forbidden => StatusCode::FORBIDDEN,
            Category::NotFound => StatusCode::NOT_FOUND,
            Category::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Category::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Category::Conflict | Category::TaskAlreadyClaimed => StatusCode::CONFLICT,
            Category::ContentNotSupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Category::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `message` of the body.
    pub fn message(self) -> &'static str {
        match self {
            Category::BadRequest => "Bad request",
            Category::Unauthorized => "Unauthorized",
            Category::Forbidden => "Forbidden",
            Category::NotFound => "Not found",
            Category::MethodNotAllowed => "Method not allowed",
            Category::NotAcceptable => "Not acceptable",
            Category::Conflict => "Conflict",
            Category::TaskAlreadyClaimed => "Task was already claimed",
            Category::ContentNotSupported => "Content is not supported",
            Category::InternalServerError => "Internal server error",
        }
    }
}

/// The category of each neutral error code. Refinements (a missing definition on start is a
/// 400, a wrong method a 405) happen in [`describe`].
pub fn category(code: ErrorCode) -> Category {
    match code {
        ErrorCode::NotFound => Category::NotFound,
        ErrorCode::Conflict => Category::Conflict,
        ErrorCode::InvalidInput => Category::BadRequest,
        ErrorCode::Unauthorized => Category::Unauthorized,
        ErrorCode::Forbidden => Category::Forbidden,
        ErrorCode::UnsupportedMediaType => Category::ContentNotSupported,
        ErrorCode::NotAcceptable => Category::NotAcceptable,
        // Flowable has no size limit of its own; a refused body is the client's fault.
        ErrorCode::PayloadTooLarge => Category::BadRequest,
        ErrorCode::UnsupportedOperation => Category::NotFound,
        // A process-model rule: Flowable's FlowableIllegalStateException is a 400.
        ErrorCode::NotAllowed => Category::BadRequest,
        ErrorCode::ProcessFailure => Category::InternalServerError,
        ErrorCode::Unavailable => Category::InternalServerError,
        ErrorCode::Internal => Category::InternalServerError,
    }
}

fn definition_message(selector: &DefinitionSelector) -> String {
    match selector {
        DefinitionSelector::Id(id) => format!("no deployed process definition found with id '{id}'"),
        DefinitionSelector::Key { key, tenant_id } if tenant_id.is_empty() => {
            format!("no processes deployed with key '{key}'")
        }
        DefinitionSelector::Key { key, tenant_id } => {
            format!("no processes deployed with key '{key}' for tenant identifier '{tenant_id}'")
        }
        DefinitionSelector::Message { name, .. } => {
            format!("Cannot start process instance by message: no subscription to message with name '{name}' found.")
        }
        DefinitionSelector::Alias { name, .. } => format!("no processes deployed with key '{name}'"),
    }
}

fn missing_task(id: &str, family: Family) -> String {
    match family {
        Family::HistoricTask => format!("Could not find a task instance with id '{id}'."),
        _ => format!("Could not find a task with id '{id}'."),
    }
}

fn missing_instance(id: &str, family: Family) -> String {
    match family {
        Family::Task | Family::TaskClaim | Family::HistoricTask | Family::TaskVariableDelete => {
            format!("Could not find a process instance with id '{id}'.")
        }
        Family::Variables | Family::VariableDelete => format!("Could not find an execution with id '{id}'."),
        Family::Bulk => format!("No process instance found for id '{id}'"),
        Family::Instance | Family::Start | Family::Other => {
            format!("Could not find a process instance with id '{id}'.")
        }
    }
}

/// What the client sees of an error: category and `exception` text, plus extra headers.
pub struct Described {
    pub category: Category,
    pub exception: Option<String>,
    pub allow: Option<String>,
}

/// Category and detail of an error in the words of the resource family it happened in.
pub fn describe(err: &CoreError, family: Family, ctx: &RequestCtx) -> Described {
    let cat = category(err.code());
    let plain = |exception: String| Described {
        category: cat,
        exception: Some(exception),
        allow: None,
    };
    match err {
        CoreError::NotFound(missing) => match missing {
            Missing::Instance(id) => plain(missing_instance(&id.to_string(), family)),
            Missing::InstanceText(text) => plain(missing_instance(text, family)),
            Missing::Definition(selector) => Described {
                // Flowable turns "not found" during a start into an illegal argument.
                category: if family == Family::Start {
                    Category::BadRequest
                } else {
                    cat
                },
                exception: Some(definition_message(selector)),
                allow: None,
            },
            Missing::Variable { instance, name } => plain(if family == Family::VariableDelete {
                format!("Execution '{instance}' does not have a variable '{name}' in scope local")
            } else {
                format!("Execution '{instance}' does not have a variable with name: '{name}'.")
            }),
            Missing::IdentityLink { .. } => plain("Could not find the requested identity link.".into()),
            Missing::Task(id) => plain(missing_task(&id.to_string(), family)),
            Missing::TaskText(text) => plain(missing_task(text, family)),
            Missing::TaskIdentityLink { .. } => plain("Could not find the requested identity link.".into()),
            Missing::TaskVariable { task, name } => plain(if family == Family::TaskVariableDelete {
                format!("Task '{task}' does not have a variable '{name}' in scope local")
            } else {
                format!("Task '{task}' does not have a variable with name: '{name}'.")
            }),
            Missing::Execution(id) => plain(format!("Could not find an execution with id '{id}'.")),
            Missing::Deployment(id) => plain(format!("Could not find a deployment with id '{id}'.")),
            Missing::Resource { deployment, name } => plain(format!(
                "Could not find a resource with name '{name}' in deployment '{deployment}'."
            )),
            Missing::Comment { instance, id } => plain(format!(
                "Process instance '{instance}' does not have a comment with id '{id}'."
            )),
            // Integration-process lookups (webMethods' dialect): the core's words.
            other @ (Missing::Step { .. }
            | Missing::LoggedField { .. }
            | Missing::ExternalInstance { .. }
            | Missing::StepInstance { .. }) => plain(other.to_string()),
        },
        CoreError::Conflict(Clash::TaskClaimed { task, .. }) => Described {
            category: Category::TaskAlreadyClaimed,
            exception: Some(format!("Task '{task}' is already claimed by someone else.")),
            allow: None,
        },
        // A plain FlowableException in Flowable: a 500 with the engine's words.
        CoreError::Conflict(Clash::InstanceSuspended(_)) => Described {
            category: Category::InternalServerError,
            exception: Some(
                match family {
                    Family::TaskClaim => "Cannot claim a suspended task",
                    _ => "Cannot complete a suspended task",
                }
                .into(),
            ),
            allow: None,
        },
        CoreError::Conflict(clash) => plain(match clash {
            Clash::AlreadySuspended(id) => format!("Process instance with id '{id}' is already suspended."),
            Clash::AlreadyActive(id) => format!("Process instance with id '{id}' is already active."),
            Clash::VariableExists { instance, name } => {
                format!("Variable '{name}' is already present on execution '{instance}'.")
            }
            Clash::InstanceSuspended(_) => "Cannot complete a suspended task".into(),
            Clash::TaskVariableExists { task, name } => {
                format!("Variable '{name}' is already present on task '{task}'.")
            }
            Clash::Stale(id) => {
                format!("ProcessInstance[{id}] was updated by another transaction concurrently")
            }
            Clash::TaskClaimed { task, .. } => format!("Task '{task}' is already claimed by someone else."),
            other @ (Clash::DefinitionExists(_)
            | Clash::StepExists { .. }
            | Clash::LoggedFieldExists { .. }
            | Clash::InstanceExists { .. }
            | Clash::StepInstanceExists { .. }
            | Clash::IntegrationProcess(_)) => other.to_string(),
        }),
        CoreError::Invalid { message } => plain(message.clone()),
        CoreError::Unauthorized => Described {
            category: cat,
            exception: None,
            allow: None,
        },
        CoreError::Forbidden { message } => plain(message.clone()),
        CoreError::UnsupportedMedia { content_type } => {
            plain(format!("Content-Type '{content_type}' is not supported"))
        }
        CoreError::NotAcceptable => plain("No acceptable representation".into()),
        CoreError::TooLarge { limit } => plain(format!("Request body is larger than {limit} bytes.")),
        CoreError::Unsupported { operation } => {
            let allowed = routes::allowed_methods(&ctx.path);
            let method = operation.split_once(' ').map(|(m, _)| m);
            match method {
                Some(m) if !allowed.is_empty() && !allowed.iter().any(|a| a.as_str() == m) => Described {
                    category: Category::MethodNotAllowed,
                    exception: Some(format!("Request method '{m}' is not supported")),
                    allow: Some(allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")),
                },
                Some(_) if allowed.is_empty() => plain(format!("No endpoint {operation}.")),
                _ => plain(format!("Operation '{operation}' is not supported.")),
            }
        }
        CoreError::NotAllowed { message } | CoreError::ProcessFailure { message } => plain(message.clone()),
        // Never show internals: Flowable without full error details says just this.
        CoreError::Unavailable { .. } | CoreError::Internal { .. } => {
            plain(format!("Error with ID: {}", ctx.request_id))
        }
    }
}

/// Renders an error as Flowable would.
pub fn error_response(err: &CoreError, family: Family, ctx: &RequestCtx) -> Response<Bytes> {
    let d = describe(err, family, ctx);
    if d.category == Category::Unauthorized {
        let mut resp = Response::new(Bytes::new());
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Realm\""),
        );
        return resp;
    }
    let body = ErrorInfo {
        message: d.category.message().to_string(),
        exception: d.exception,
    };
    let mut resp = json_response(d.category.status(), &body);
    if let Some(allow) = d.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    resp
}

/// A JSON response; serialisation of our own wire types cannot fail, but if it did the client
/// gets an empty 500 rather than a panic.
pub fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response<Bytes> {
    // Room for one instance up front: growing from empty reallocated and copied the body
    // several times per response (perf, start-instance benchmark).
    json_response_sized(status, body, 2048)
}

/// [`json_response`] with room for `capacity` bytes up front (a list: about a kilobyte per item).
pub fn json_response_sized<T: serde::Serialize>(
    status: StatusCode,
    body: &T,
    capacity: usize,
) -> Response<Bytes> {
    let mut bytes = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => {
            let mut resp = Response::new(Bytes::from(bytes));
            *resp.status_mut() = status;
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
            resp
        }
        Err(_) => {
            let mut resp = Response::new(Bytes::new());
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpm_compat_model::{IdentityLink, InstanceId, Timestamp};
    use serde_json::{json, Value};

    fn ctx(path: &str) -> RequestCtx {
        RequestCtx {
            now: Timestamp(0),
            request_id: 42,
            base_url: "http://localhost:8080/flowable-rest/service".into(),
            path: path.into(),
            user: None,
        }
    }

    fn body(resp: &Response<Bytes>) -> Value {
        serde_json::from_slice(resp.body()).expect("json body")
    }

    fn check(err: CoreError, family: Family, path: &str, status: u16, want: Value) {
        let resp = error_response(&err, family, &ctx(path));
        assert_eq!(resp.status().as_u16(), status, "{err:?}");
        assert_eq!(body(&resp), want, "{err:?}");
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/json;charset=UTF-8"
        );
    }

    #[test]
    fn every_error_code_has_a_category() {
        use ErrorCode as C;
        let all = [
            (C::NotFound, 404),
            (C::Conflict, 409),
            (C::InvalidInput, 400),
            (C::Unauthorized, 401),
            (C::Forbidden, 403),
            (C::UnsupportedMediaType, 415),
            (C::NotAcceptable, 406),
            (C::PayloadTooLarge, 400),
            (C::UnsupportedOperation, 404),
            (C::NotAllowed, 400),
            (C::Unavailable, 500),
            (C::Internal, 500),
        ];
        for (code, status) in all {
            assert_eq!(category(code).status().as_u16(), status, "{code:?}");
        }
    }

    #[test]
    fn not_found_wording_by_family() {
        let id = InstanceId(7);
        let p = "runtime/process-instances/7";
        check(
            CoreError::NotFound(Missing::Instance(id)),
            Family::Instance,
            p,
            404,
            json!({"message": "Not found", "exception": "Could not find a process instance with id '7'."}),
        );
        check(
            CoreError::NotFound(Missing::InstanceText("x".into())),
            Family::Variables,
            p,
            404,
            json!({"message": "Not found", "exception": "Could not find an execution with id 'x'."}),
        );
        check(
            CoreError::NotFound(Missing::Instance(id)),
            Family::Bulk,
            p,
            404,
            json!({"message": "Not found", "exception": "No process instance found for id '7'"}),
        );
        check(
            CoreError::NotFound(Missing::Variable {
                instance: id,
                name: "v".into(),
            }),
            Family::Variables,
            p,
            404,
            json!({"message": "Not found", "exception": "Execution '7' does not have a variable with name: 'v'."}),
        );
        check(
            CoreError::NotFound(Missing::Variable {
                instance: id,
                name: "v".into(),
            }),
            Family::VariableDelete,
            p,
            404,
            json!({"message": "Not found", "exception": "Execution '7' does not have a variable 'v' in scope local"}),
        );
        check(
            CoreError::NotFound(Missing::IdentityLink {
                instance: id,
                link: IdentityLink::user("u", "t"),
            }),
            Family::Instance,
            p,
            404,
            json!({"message": "Not found", "exception": "Could not find the requested identity link."}),
        );
    }

    #[test]
    fn missing_definition_on_start_is_bad_request() {
        let cases = [
            (
                DefinitionSelector::Key {
                    key: "k".into(),
                    tenant_id: "".into(),
                },
                "no processes deployed with key 'k'",
            ),
            (
                DefinitionSelector::Key {
                    key: "k".into(),
                    tenant_id: "t".into(),
                },
                "no processes deployed with key 'k' for tenant identifier 't'",
            ),
            (
                DefinitionSelector::Id("x".into()),
                "no deployed process definition found with id 'x'",
            ),
            (
                DefinitionSelector::Message {
                    name: "x".into(),
                    tenant_id: "".into(),
                },
                "Cannot start process instance by message: no subscription to message with name 'x' found.",
            ),
            (
                DefinitionSelector::Alias {
                    dialect: "flowable".into(),
                    name: "a".into(),
                    version: None,
                },
                "no processes deployed with key 'a'",
            ),
        ];
        for (selector, text) in cases {
            check(
                CoreError::NotFound(Missing::Definition(selector.clone())),
                Family::Start,
                "runtime/process-instances",
                400,
                json!({"message": "Bad request", "exception": text}),
            );
            check(
                CoreError::NotFound(Missing::Definition(selector)),
                Family::Instance,
                "runtime/process-instances/7",
                404,
                json!({"message": "Not found", "exception": text}),
            );
        }
    }

    #[test]
    fn every_other_variant() {
        let id = InstanceId(7);
        let p = "runtime/process-instances/7";
        let f = Family::Instance;
        check(
            CoreError::Conflict(Clash::AlreadySuspended(id)),
            f,
            p,
            409,
            json!({"message": "Conflict", "exception": "Process instance with id '7' is already suspended."}),
        );
        check(
            CoreError::Conflict(Clash::AlreadyActive(id)),
            f,
            p,
            409,
            json!({"message": "Conflict", "exception": "Process instance with id '7' is already active."}),
        );
        check(
            CoreError::Conflict(Clash::VariableExists {
                instance: id,
                name: "v".into(),
            }),
            Family::Variables,
            p,
            409,
            json!({"message": "Conflict", "exception": "Variable 'v' is already present on execution '7'."}),
        );
        check(
            CoreError::invalid("Invalid action: 'x'."),
            f,
            p,
            400,
            json!({"message": "Bad request", "exception": "Invalid action: 'x'."}),
        );
        check(
            CoreError::Forbidden {
                message: "no privilege".into(),
            },
            f,
            p,
            403,
            json!({"message": "Forbidden", "exception": "no privilege"}),
        );
        check(
            CoreError::UnsupportedMedia {
                content_type: "text/plain".into(),
            },
            f,
            p,
            415,
            json!({"message": "Content is not supported", "exception": "Content-Type 'text/plain' is not supported"}),
        );
        check(
            CoreError::NotAcceptable,
            f,
            p,
            406,
            json!({"message": "Not acceptable", "exception": "No acceptable representation"}),
        );
        check(
            CoreError::TooLarge { limit: 10 },
            f,
            p,
            400,
            json!({"message": "Bad request", "exception": "Request body is larger than 10 bytes."}),
        );
        check(
            CoreError::NotAllowed {
                message: "Integration processes cannot be suspended.".into(),
            },
            f,
            p,
            400,
            json!({"message": "Bad request", "exception": "Integration processes cannot be suspended."}),
        );
        for err in [
            CoreError::Unavailable {
                message: "redis down at 10.0.0.1".into(),
            },
            CoreError::Internal {
                message: "corrupt record".into(),
            },
        ] {
            check(
                err,
                f,
                p,
                500,
                json!({"message": "Internal server error", "exception": "Error with ID: 42"}),
            );
        }
    }

    #[test]
    fn unauthorized_is_spring_security() {
        let resp = error_response(&CoreError::Unauthorized, Family::Other, &ctx("x"));
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Basic realm=\"Realm\"");
        assert!(resp.body().is_empty());
    }

    #[test]
    fn unknown_route_and_wrong_method() {
        check(
            CoreError::Unsupported {
                operation: "GET runtime/nothing".into(),
            },
            Family::Other,
            "runtime/nothing",
            404,
            json!({"message": "Not found", "exception": "No endpoint GET runtime/nothing."}),
        );
        let p = "runtime/process-instances/7";
        let resp = error_response(
            &CoreError::Unsupported {
                operation: format!("POST {p}"),
            },
            Family::Instance,
            &ctx(p),
        );
        assert_eq!(resp.status().as_u16(), 405);
        assert_eq!(resp.headers()[header::ALLOW], "GET, PUT, DELETE");
        assert_eq!(
            body(&resp),
            json!({"message": "Method not allowed", "exception": "Request method 'POST' is not supported"})
        );
        check(
            CoreError::Unsupported {
                operation: "migrate".into(),
            },
            Family::Instance,
            p,
            404,
            json!({"message": "Not found", "exception": "Operation 'migrate' is not supported."}),
        );
    }
}
