//! One error type for every dialect; each adapter maps it onto its vendor's status codes and
//! envelope, exhaustively.

use serde::Serialize;

use crate::command::DefinitionSelector;
use crate::instance::{IdentityLink, InstanceId};
use crate::task::TaskId;

/// Stable, vendor-neutral error codes with a default HTTP status (meilisearch's
/// `make_error_codes!`, s3s `S3ErrorCode`). Adapters may override the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    Conflict,
    InvalidInput,
    Unauthorized,
    Forbidden,
    UnsupportedMediaType,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedOperation,
    NotAllowed,
    ProcessFailure,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn default_status(self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            ErrorCode::NotFound => S::NOT_FOUND,
            ErrorCode::Conflict => S::CONFLICT,
            ErrorCode::InvalidInput => S::BAD_REQUEST,
            ErrorCode::Unauthorized => S::UNAUTHORIZED,
            ErrorCode::Forbidden => S::FORBIDDEN,
            ErrorCode::UnsupportedMediaType => S::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::NotAcceptable => S::NOT_ACCEPTABLE,
            ErrorCode::PayloadTooLarge => S::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedOperation => S::NOT_FOUND,
            ErrorCode::NotAllowed => S::CONFLICT,
            ErrorCode::ProcessFailure => S::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => S::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::NotAcceptable => "not_acceptable",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedOperation => "unsupported_operation",
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::ProcessFailure => "process_failure",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// What was not there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Missing {
    #[error("process instance {0} not found")]
    Instance(InstanceId),
    /// An instance id a dialect could not even parse, as the client wrote it.
    #[error("process instance '{0}' not found")]
    InstanceText(String),
    #[error("process definition {0:?} not found")]
    Definition(DefinitionSelector),
    #[error("variable '{name}' not found on process instance {instance}")]
    Variable { instance: InstanceId, name: String },
    #[error("identity link not found on process instance {instance}")]
    IdentityLink {
        instance: InstanceId,
        link: IdentityLink,
    },
    #[error("task {0} not found")]
    Task(TaskId),
    #[error("identity link not found on task {task}")]
    TaskIdentityLink { task: TaskId, link: IdentityLink },
    #[error("variable '{name}' not found on task {task}")]
    TaskVariable { task: TaskId, name: String },
    /// An execution id as dialects show it (`<instance>.<record key>`).
    #[error("execution '{0}' not found")]
    Execution(String),
    #[error("deployment '{0}' not found")]
    Deployment(String),
    #[error("resource '{name}' not found in deployment '{deployment}'")]
    Resource { deployment: String, name: String },
    /// A task id a dialect could not parse, as the client wrote it.
    #[error("task '{0}' not found")]
    TaskText(String),
    #[error("process instance {instance} has no comment '{id}'")]
    Comment { instance: InstanceId, id: String },
    /// An integration process's step definition.
    #[error("step '{step}' of process '{key}' not found")]
    Step { key: String, step: String },
    /// A logged field definition of an integration process's step.
    #[error("logged field '{field}' of step '{step}' of process '{key}' not found")]
    LoggedField {
        key: String,
        step: String,
        field: String,
    },
    /// An instance by the id its client gave it (its business key) within a definition key.
    #[error("process instance '{id}' of process '{key}' not found")]
    ExternalInstance { key: String, id: String },
    /// A step instance (activity record) of an instance.
    #[error("step instance '{step}' (iteration {iteration}) not found on process instance {instance}")]
    StepInstance {
        instance: InstanceId,
        step: String,
        iteration: u32,
    },
}

/// What clashed with the current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Clash {
    #[error("process instance {0} is already suspended")]
    AlreadySuspended(InstanceId),
    #[error("process instance {0} is already active")]
    AlreadyActive(InstanceId),
    #[error("variable '{name}' already exists on process instance {instance}")]
    VariableExists { instance: InstanceId, name: String },
    /// The process cannot move while its instance is suspended.
    #[error("process instance {0} is suspended")]
    InstanceSuspended(InstanceId),
    /// Someone else changed the instance between the read and the write of a step, more
    /// often than the engine retries.
    #[error("process instance {0} was changed by another request")]
    Stale(InstanceId),
    #[error("variable '{name}' already exists on task {task}")]
    TaskVariableExists { task: TaskId, name: String },
    #[error("task {task} is already claimed by {by}")]
    TaskClaimed { task: TaskId, by: String },
    #[error("process definition '{0}' already exists")]
    DefinitionExists(String),
    #[error("step '{step}' of process '{key}' already exists")]
    StepExists { key: String, step: String },
    #[error("logged field '{field}' of step '{step}' of process '{key}' already exists")]
    LoggedFieldExists {
        key: String,
        step: String,
        field: String,
    },
    #[error("process instance '{id}' of process '{key}' already exists")]
    InstanceExists { key: String, id: String },
    #[error("step instance '{step}' (iteration {iteration}) already exists on process instance {instance}")]
    StepInstanceExists {
        instance: InstanceId,
        step: String,
        iteration: u32,
    },
    /// Integration processes are logged, not run: they cannot be stopped, suspended, resumed
    /// or resubmitted (webMethods Monitor's rule).
    #[error("process instance {0} is an integration process: it cannot be stopped, suspended, resumed or resubmitted")]
    IntegrationProcess(InstanceId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    NotFound(Missing),
    #[error(transparent)]
    Conflict(Clash),
    /// Bad input; `message` is shown to the client as is.
    #[error("{message}")]
    Invalid { message: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    #[error("content type '{content_type}' is not supported")]
    UnsupportedMedia { content_type: String },
    #[error("no acceptable representation")]
    NotAcceptable,
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("operation {operation} is not supported")]
    Unsupported { operation: String },
    /// A rule of the process model forbids it (e.g. suspending an ended instance).
    #[error("{message}")]
    NotAllowed { message: String },
    /// The process model cannot go on (no outgoing flow, a condition that does not
    /// evaluate): the vendor's engine would throw; `message` is shown to the client.
    #[error("{message}")]
    ProcessFailure { message: String },
    /// The store did not answer; logged by the server, shown to clients generically.
    #[error("store unavailable: {message}")]
    Unavailable { message: String },
    /// A bug or corrupt data; logged by the server, shown to clients generically.
    #[error("internal error: {message}")]
    Internal { message: String },
}

impl CoreError {
    pub fn invalid(message: impl Into<String>) -> CoreError {
        CoreError::Invalid {
            message: message.into(),
        }
    }

    /// Whether the request was refused by what it asked for or the state it met (not found,
    /// a conflict, not allowed, invalid), rather than failed by the system; lost races
    /// (`Stale`) are the system's.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            CoreError::NotFound(_)
                | CoreError::Conflict(_)
                | CoreError::NotAllowed { .. }
                | CoreError::Invalid { .. }
        ) && !matches!(self, CoreError::Conflict(Clash::Stale(_)))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::NotFound(_) => ErrorCode::NotFound,
            CoreError::Conflict(_) => ErrorCode::Conflict,
            CoreError::Invalid { .. } => ErrorCode::InvalidInput,
            CoreError::Unauthorized => ErrorCode::Unauthorized,
            CoreError::Forbidden { .. } => ErrorCode::Forbidden,
            CoreError::UnsupportedMedia { .. } => ErrorCode::UnsupportedMediaType,
            CoreError::NotAcceptable => ErrorCode::NotAcceptable,
            CoreError::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            CoreError::Unsupported { .. } => ErrorCode::UnsupportedOperation,
            CoreError::NotAllowed { .. } => ErrorCode::NotAllowed,
            CoreError::ProcessFailure { .. } => ErrorCode::ProcessFailure,
            CoreError::Unavailable { .. } => ErrorCode::Unavailable,
            CoreError::Internal { .. } => ErrorCode::Internal,
        }
    }
}
