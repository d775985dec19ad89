//! The ten services of `pub.monitor.integrationProcessLogging`, their inputs checked as the
//! service signatures declare them (a missing required input or a wrong type is a service
//! exception), each turned into one core command.

use bpm_compat_model::{
    Command, CoreError, InstanceState, IntegrationChange, LoggedInstance, StepStatus, Timestamp, Variable,
    VariableValue,
};
use serde_json::Value;

use crate::pipeline::Pipeline;

/// The folder every service lives in.
pub const FOLDER: &str = "pub.monitor.integrationProcessLogging";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    GenerateProcessInstanceId,
    CreateProcessMetadata,
    CreateStepMetadata,
    CreateLoggedFieldMetadata,
    CreateProcessInstance,
    CreateStepInstance,
    UpdateProcessInstanceStatus,
    UpdateStepInstanceStatus,
    CreateProcessError,
    CreateLoggedFieldInstance,
}

impl Service {
    pub const ALL: [Service; 10] = [
        Service::GenerateProcessInstanceId,
        Service::CreateProcessMetadata,
        Service::CreateStepMetadata,
        Service::CreateLoggedFieldMetadata,
        Service::CreateProcessInstance,
        Service::CreateStepInstance,
        Service::UpdateProcessInstanceStatus,
        Service::UpdateStepInstanceStatus,
        Service::CreateProcessError,
        Service::CreateLoggedFieldInstance,
    ];

    /// The service's name in its folder (case-sensitive, as Integration Server's namespace is).
    pub fn name(self) -> &'static str {
        match self {
            Service::GenerateProcessInstanceId => "generateProcessInstanceID",
            Service::CreateProcessMetadata => "createProcessMetadata",
            Service::CreateStepMetadata => "createStepMetadata",
            Service::CreateLoggedFieldMetadata => "createLoggedFieldMetadata",
            Service::CreateProcessInstance => "createProcessInstance",
            Service::CreateStepInstance => "createStepInstance",
            Service::UpdateProcessInstanceStatus => "updateProcessInstanceStatus",
            Service::UpdateStepInstanceStatus => "updateStepInstanceStatus",
            Service::CreateProcessError => "createProcessError",
            Service::CreateLoggedFieldInstance => "createLoggedFieldInstance",
        }
    }

    pub fn by_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Monitor's status codes ("Status Reference"), each with its label and what it means to the
/// core: an open state keeps an instance (or step) running, a closed one ends it. A logged
/// `Suspended` stays a label: integration processes are never suspended in the core.
pub const STATUSES: [(u32, &str, InstanceState); 27] = [
    (1, "Started", InstanceState::Active),
    (2, "Completed", InstanceState::Completed),
    (4, "Failed", InstanceState::Failed),
    (8, "Suspended", InstanceState::Active),
    (16, "Waiting", InstanceState::Active),
    (32, "Cached", InstanceState::Active),
    (64, "Expired", InstanceState::Terminated),
    (128, "Message", InstanceState::Active),
    (256, "User Data", InstanceState::Active),
    (512, "Retries Exceeded", InstanceState::Failed),
    (768, "Unsatisfied Join", InstanceState::Failed),
    (776, "Interrupted", InstanceState::Terminated),
    (1024, "Stopped", InstanceState::Terminated),
    (2048, "Resumed", InstanceState::Active),
    (4096, "Activated", InstanceState::Active),
    (8192, "Requeued", InstanceState::Active),
    (16384, "Reassigned", InstanceState::Active),
    (32768, "Resubmitted", InstanceState::Active),
    (32769, "Rejected", InstanceState::Failed),
    (32770, "In Doubt", InstanceState::Active),
    (32772, "Retried", InstanceState::Active),
    (32777, "Resubmitted-ErrorOnly", InstanceState::Active),
    (33024, "Queued", InstanceState::Active),
    (33025, "Accepted", InstanceState::Active),
    (33026, "Completed (tasks)", InstanceState::Completed),
    (33030, "Failed (Escalated)", InstanceState::FailedEscalated),
    (0, "", InstanceState::Active),
];

/// A status code's entry; `0` and unknown codes have none.
pub fn status(code: &str) -> Option<(&'static str, InstanceState)> {
    let n: u32 = code.trim().parse().ok()?;
    STATUSES
        .iter()
        .find(|(c, _, _)| *c == n && n != 0)
        .map(|(_, label, state)| (*label, *state))
}

/// Reads the pipeline's inputs.
struct Inputs<'a>(&'a Pipeline);

impl Inputs<'_> {
    /// An optional string input; a non-string (a number, a document) is a wrong type. Empty
    /// counts as absent, as Integration Server's form inputs do.
    fn opt(&self, name: &str) -> Result<Option<String>, CoreError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(CoreError::invalid(format!(
                "Input '{name}' must be a String, not {}",
                kind(other)
            ))),
        }
    }

    fn required(&self, name: &str) -> Result<String, CoreError> {
        self.opt(name)?
            .ok_or_else(|| CoreError::invalid(format!("[ISS.0086.9249] Missing Parameter: {name}")))
    }

    /// A required identifier: 1 to `max` letters and digits.
    fn id(&self, name: &str, max: usize) -> Result<String, CoreError> {
        let v = self.required(name)?;
        if v.chars().count() > max || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(CoreError::invalid(format!(
                "Input '{name}' must be 1 to {max} alphanumeric characters: '{v}'"
            )));
        }
        Ok(v)
    }

    /// Required text of at most `max` characters.
    fn text(&self, name: &str, max: usize) -> Result<String, CoreError> {
        let v = self.required(name)?;
        check_length(name, &v, max)?;
        Ok(v)
    }

    fn opt_text(&self, name: &str, max: usize) -> Result<Option<String>, CoreError> {
        let v = self.opt(name)?;
        if let Some(v) = &v {
            check_length(name, v, max)?;
        }
        Ok(v)
    }

    /// `stepIteration`: a Number, or text that is one; 1 when absent.
    fn iteration(&self) -> Result<u32, CoreError> {
        let bad = |v: &dyn std::fmt::Display| {
            CoreError::invalid(format!(
                "Input 'stepIteration' must be a whole number of at least 1: {v}"
            ))
        };
        match self.0.get("stepIteration") {
            None | Some(Value::Null) => Ok(1),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(1),
            Some(Value::String(s)) => s
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad(s)),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad(n)),
            Some(other) => Err(bad(&kind(other))),
        }
    }
}

fn check_length(name: &str, v: &str, max: usize) -> Result<(), CoreError> {
    if v.chars().count() > max {
        return Err(CoreError::invalid(format!(
            "Input '{name}' must be at most {max} characters"
        )));
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a Boolean",
        Value::Number(_) => "a Number",
        Value::String(_) => "a String",
        Value::Array(_) => "a list",
        Value::Object(_) => "a Document",
    }
}

/// A logged field's value: exactly one of `stringValue`, `numberValue` (a Number, or text
/// that is one) and `dateValue` (`yyyy-MM-dd HH:mm:ss[.SSS]`, ISO-8601, or epoch milliseconds).
fn field_value(p: &Pipeline) -> Result<VariableValue, CoreError> {
    let given: Vec<(&str, &Value)> = ["stringValue", "numberValue", "dateValue"]
        .into_iter()
        .filter_map(|k| p.get(k).filter(|v| !v.is_null()).map(|v| (k, v)))
        .collect();
    let [(name, v)] = given.as_slice() else {
        return Err(CoreError::invalid(
            "Exactly one of stringValue, numberValue and dateValue is required",
        ));
    };
    match (*name, v) {
        ("stringValue", Value::String(s)) => Ok(VariableValue::String(s.clone())),
        ("numberValue", Value::Number(n)) => Ok(match n.as_i64() {
            Some(i) => VariableValue::Long(i),
            None => VariableValue::Double(n.as_f64().unwrap_or_default()),
        }),
        ("numberValue", Value::String(s)) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                Ok(VariableValue::Long(i))
            } else {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(VariableValue::Double)
                    .ok_or_else(|| CoreError::invalid(format!("numberValue is not a number: '{s}'")))
            }
        }
        ("dateValue", Value::String(s)) => parse_date(s)
            .map(VariableValue::Date)
            .ok_or_else(|| CoreError::invalid(format!("dateValue is not a date: '{s}'"))),
        ("dateValue", Value::Number(n)) => n
            .as_i64()
            .map(|ms| VariableValue::Date(Timestamp(ms)))
            .ok_or_else(|| CoreError::invalid(format!("dateValue is not a date: {n}"))),
        (name, other) => Err(CoreError::invalid(format!(
            "Input '{name}' cannot be {}",
            kind(other)
        ))),
    }
}

/// `yyyy-MM-dd HH:mm:ss[.SSS]` (Integration Server's default date pattern, read as UTC) or
/// ISO-8601.
fn parse_date(s: &str) -> Option<Timestamp> {
    let t = s.trim();
    Timestamp::parse_iso(t).or_else(|| Timestamp::parse_iso(&format!("{}Z", t.replacen(' ', "T", 1))))
}

/// The command a service call stands for.
pub fn command(service: Service, p: &Pipeline, user: Option<String>) -> Result<Command, CoreError> {
    let i = Inputs(p);
    let instance = |i: &Inputs<'_>| -> Result<LoggedInstance, CoreError> {
        Ok(LoggedInstance {
            key: i.id("processKey", 64)?,
            id: i.id("processInstanceID", 32)?,
        })
    };
    let status_of = |code: &str| {
        status(code).ok_or_else(|| CoreError::NotAllowed {
            message: format!("Invalid status code: '{code}' is not a Monitor status"),
        })
    };
    Ok(match service {
        Service::GenerateProcessInstanceId => Command::GenerateId,
        Service::CreateProcessMetadata => Command::DefineIntegration(IntegrationChange::Process {
            key: i.id("processKey", 64)?,
            label: i.text("processLabel", 1024)?,
        }),
        Service::CreateStepMetadata => Command::DefineIntegration(IntegrationChange::Step {
            key: i.id("processKey", 64)?,
            step: i.id("stepID", 128)?,
            label: i.text("stepLabel", 1024)?,
        }),
        Service::CreateLoggedFieldMetadata => Command::DefineIntegration(IntegrationChange::LoggedField {
            key: i.id("processKey", 64)?,
            step: i.id("stepID", 128)?,
            document: i.text("documentType", 512)?,
            field: i.text("fieldName", 512)?,
        }),
        Service::CreateProcessInstance => Command::LogInstance {
            instance: instance(&i)?,
            user,
        },
        Service::CreateStepInstance => Command::LogStep {
            instance: instance(&i)?,
            step: i.id("stepID", 128)?,
            iteration: i.iteration()?,
            status: None,
        },
        Service::UpdateProcessInstanceStatus => {
            let instance = instance(&i)?;
            match status_of(&i.required("status")?) {
                Ok((label, state)) => Command::LogInstanceStatus {
                    instance,
                    state,
                    label: label.into(),
                },
                Err(error) => Command::Refuse {
                    error,
                    instance: Some(instance),
                },
            }
        }
        Service::UpdateStepInstanceStatus => {
            let instance = instance(&i)?;
            let step = i.id("stepID", 128)?;
            let iteration = i.iteration()?;
            match status_of(&i.required("status")?) {
                Ok((label, state)) => Command::LogStep {
                    instance,
                    step,
                    iteration,
                    status: Some(StepStatus {
                        label: label.into(),
                        ends: !state.is_open(),
                    }),
                },
                Err(error) => Command::Refuse {
                    error,
                    instance: Some(instance),
                },
            }
        }
        Service::CreateProcessError => Command::LogError {
            id: i.id("processInstanceID", 32)?,
            source: i.opt_text("serviceName", 512)?,
            message: i.text("errorMsg", 1024)?,
            details: i.opt_text("errorStackTrace", 2000)?,
            user,
        },
        Service::CreateLoggedFieldInstance => {
            let instance = instance(&i)?;
            let step = i.id("stepID", 128)?;
            let iteration = i.iteration()?;
            let _document = i.opt_text("documentName", 512)?;
            let name = i.text("fieldName", 512)?;
            Command::LogField {
                instance,
                step,
                iteration,
                variable: Variable::new(name, field_value(p)?),
            }
        }
    })
}
