//! Flowable's JSON shapes, named after Flowable's own DTO classes (flowable-engine
//! `modules/flowable-rest/.../service/api/` and `modules/flowable-common-rest/.../rest/api/`,
//! Flowable 7.x/8.0). Request types accept unknown fields (Spring Boot's default mapper);
//! response types serialise every field, nulls included, as Flowable does.
//!
//! Reference: <https://www.flowable.com/open-source/docs/bpmn/ch14-REST>

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `org.flowable.rest.service.api.runtime.process.ProcessInstanceResponse`. Borrows what the
/// instance and its definition hold (it is serialized at once): a list of ten would otherwise
/// copy some sixty strings only to write them out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInstanceResponse<'a> {
    pub id: String,
    pub url: String,
    pub name: Option<&'a str>,
    pub business_key: Option<&'a str>,
    pub business_status: Option<&'a str>,
    pub due_date: Option<String>,
    pub claim_time: Option<String>,
    pub claimed_by: Option<&'a str>,
    pub suspended: bool,
    pub ended: bool,
    pub process_definition_id: &'a str,
    pub process_definition_url: String,
    pub process_definition_name: Option<&'a str>,
    pub process_definition_description: Option<&'a str>,
    pub activity_id: Option<&'a str>,
    pub start_user_id: Option<&'a str>,
    pub start_time: String,
    pub super_process_instance_id: Option<String>,
    pub variables: Vec<RestVariable>,
    pub callback_id: Option<String>,
    pub callback_type: Option<String>,
    pub reference_id: Option<String>,
    pub reference_type: Option<String>,
    pub propagated_stage_instance_id: Option<String>,
    pub tenant_id: &'a str,
    pub completed: bool,
}

/// `org.flowable.common.rest.api.DataResponse`: the list envelope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataResponse<T> {
    pub data: Vec<T>,
    pub total: u64,
    pub start: usize,
    pub sort: String,
    pub order: String,
    /// The number of items in `data`, not the requested page size.
    pub size: usize,
}

/// `org.flowable.rest.service.api.engine.variable.RestVariable` as rendered: `type` and
/// `valueUrl` are left out when null, `value` and `scope` never are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestVariable {
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_url: Option<String>,
    pub scope: Option<String>,
}

/// `RestVariable` as a request body (`valueUrl` is ignored on input).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestVariableRequest {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    #[serde(default)]
    pub value: Value,
    pub scope: Option<String>,
}

/// `org.flowable.rest.service.api.engine.variable.QueryVariable`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryVariable {
    pub name: Option<String>,
    #[serde(default)]
    pub value: Value,
    pub operation: Option<String>,
    #[serde(rename = "type")]
    pub type_name: Option<String>,
}

/// `org.flowable.rest.service.api.runtime.process.ProcessInstanceCreateRequest`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInstanceCreateRequest {
    pub process_definition_id: Option<String>,
    pub process_definition_key: Option<String>,
    pub message: Option<String>,
    pub name: Option<String>,
    pub business_key: Option<String>,
    pub variables: Option<Vec<RestVariableRequest>>,
    pub transient_variables: Option<Vec<RestVariableRequest>>,
    pub start_form_variables: Option<Vec<RestVariableRequest>>,
    pub outcome: Option<String>,
    pub tenant_id: Option<String>,
    pub override_definition_tenant_id: Option<String>,
    pub return_variables: Option<bool>,
}

/// `ProcessInstanceUpdateRequest` merged with `ProcessInstanceActionRequest` (one `PUT`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInstanceUpdateRequest {
    pub action: Option<String>,
    pub assignee: Option<String>,
    pub name: Option<String>,
    pub business_key: Option<String>,
    pub business_status: Option<String>,
    pub due_date: Option<String>,
}

/// `org.flowable.common.rest.api.BulkDeleteInstancesRestActionRequest`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkDeleteInstancesRestActionRequest {
    pub action: Option<String>,
    pub instance_ids: Option<Vec<String>>,
    pub delete_reason: Option<String>,
}

/// `org.flowable.rest.service.api.engine.RestIdentityLink` (as a request it also takes the
/// older `userId`/`groupId` of the 6.x docs).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestIdentityLinkRequest {
    pub user: Option<String>,
    pub group: Option<String>,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    #[serde(rename = "type")]
    pub link_type: Option<String>,
}

/// `org.flowable.rest.service.api.engine.RestIdentityLink` as rendered: exactly these four.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestIdentityLink {
    pub url: String,
    pub user: Option<String>,
    pub group: Option<String>,
    #[serde(rename = "type")]
    pub link_type: String,
}

/// `org.flowable.rest.service.api.runtime.process.ProcessInstanceQueryRequest` (with the
/// paging of `PaginateRequest`). Paging values may be numbers or numeric strings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessInstanceQueryRequest {
    pub start: Option<Value>,
    pub size: Option<Value>,
    pub sort: Option<String>,
    pub order: Option<String>,

    pub process_instance_id: Option<String>,
    pub process_instance_ids: Option<Vec<String>>,
    pub process_instance_name: Option<String>,
    pub process_instance_name_like: Option<String>,
    pub process_instance_name_like_ignore_case: Option<String>,
    pub process_business_key: Option<String>,
    pub process_business_key_like: Option<String>,
    pub process_business_key_like_ignore_case: Option<String>,
    pub process_business_status: Option<String>,
    pub process_business_status_like: Option<String>,
    pub process_business_status_like_ignore_case: Option<String>,
    pub process_definition_id: Option<String>,
    pub process_definition_ids: Option<Vec<String>>,
    pub process_definition_key: Option<String>,
    pub process_definition_key_like: Option<String>,
    pub process_definition_key_like_ignore_case: Option<String>,
    pub process_definition_keys: Option<Vec<String>>,
    pub exclude_process_definition_keys: Option<Vec<String>>,
    pub process_definition_name: Option<String>,
    pub process_definition_name_like: Option<String>,
    pub process_definition_name_like_ignore_case: Option<String>,
    pub process_definition_category: Option<String>,
    pub process_definition_category_like: Option<String>,
    pub process_definition_category_like_ignore_case: Option<String>,
    pub process_definition_version: Option<i64>,
    pub process_definition_engine_version: Option<String>,
    pub deployment_id: Option<String>,
    pub deployment_id_in: Option<Vec<String>>,
    pub started_by: Option<String>,
    pub started_before: Option<Value>,
    pub started_after: Option<Value>,
    pub active_activity_id: Option<String>,
    pub active_activity_ids: Option<Vec<String>>,
    pub involved_user: Option<String>,
    pub suspended: Option<bool>,
    pub super_process_instance_id: Option<String>,
    pub sub_process_instance_id: Option<String>,
    pub exclude_subprocesses: Option<bool>,
    pub root_scope_id: Option<String>,
    pub root_scope_ids: Option<Vec<String>>,
    pub parent_scope_id: Option<String>,
    pub parent_scope_ids: Option<Vec<String>>,
    pub callback_id: Option<String>,
    pub callback_ids: Option<Vec<String>>,
    pub callback_type: Option<String>,
    pub parent_case_instance_id: Option<String>,
    pub tenant_id: Option<String>,
    pub tenant_id_like: Option<String>,
    pub tenant_id_like_ignore_case: Option<String>,
    pub without_tenant_id: Option<bool>,
    pub include_process_variables: Option<bool>,
    pub include_process_variables_names: Option<Vec<String>>,
    pub variables: Option<Vec<QueryVariable>>,
}

/// `org.flowable.common.rest.exception.ErrorInfo`: `exception` is left out when null.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorInfo {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<String>,
}

/// `org.flowable.rest.service.api.runtime.task.TaskResponse`, fields in Flowable's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResponse {
    pub id: String,
    pub url: String,
    pub owner: Option<String>,
    pub assignee: Option<String>,
    /// `pending`, `resolved` or null.
    pub delegation_state: Option<&'static str>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub create_time: String,
    pub due_date: Option<String>,
    pub priority: i32,
    pub suspended: bool,
    pub claim_time: Option<String>,
    pub task_definition_key: String,
    pub scope_definition_id: Option<String>,
    pub scope_id: Option<String>,
    pub sub_scope_id: Option<String>,
    pub scope_type: Option<String>,
    pub propagated_stage_instance_id: Option<String>,
    pub tenant_id: String,
    pub category: Option<String>,
    pub form_key: Option<String>,
    pub parent_task_id: Option<String>,
    pub parent_task_url: Option<String>,
    pub execution_id: String,
    pub execution_url: String,
    pub process_instance_id: String,
    pub process_instance_url: String,
    pub process_definition_id: String,
    pub process_definition_url: String,
    pub variables: Vec<RestVariable>,
}

/// `org.flowable.rest.service.api.runtime.task.TaskActionRequest`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskActionRequest {
    pub action: Option<String>,
    pub assignee: Option<String>,
    pub form_definition_id: Option<String>,
    pub outcome: Option<String>,
    pub variables: Option<Vec<RestVariableRequest>>,
    pub transient_variables: Option<Vec<RestVariableRequest>>,
    pub with_scoped_variables: Option<bool>,
}

/// `org.flowable.rest.service.api.history.HistoricProcessInstanceResponse` (7.x), fields in
/// Flowable's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoricProcessInstanceResponse {
    pub id: String,
    pub url: String,
    pub name: Option<String>,
    pub business_key: Option<String>,
    pub business_status: Option<String>,
    pub process_definition_id: String,
    pub process_definition_url: String,
    pub process_definition_name: Option<String>,
    pub process_definition_description: Option<String>,
    pub start_time: String,
    pub end_time: Option<String>,
    pub duration_in_millis: Option<i64>,
    pub start_user_id: Option<String>,
    pub end_user_id: Option<String>,
    pub state: Option<&'static str>,
    pub start_activity_id: Option<String>,
    pub end_activity_id: Option<String>,
    pub delete_reason: Option<String>,
    pub super_process_instance_id: Option<String>,
    pub variables: Vec<RestVariable>,
    pub callback_id: Option<String>,
    pub callback_type: Option<String>,
    pub reference_id: Option<String>,
    pub reference_type: Option<String>,
    pub propagated_stage_instance_id: Option<String>,
    pub tenant_id: String,
}

/// `org.flowable.rest.service.api.repository.DeploymentResponse`, fields in Flowable's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentResponse {
    pub id: String,
    pub name: Option<String>,
    pub deployment_time: String,
    pub category: Option<String>,
    pub parent_deployment_id: Option<String>,
    pub url: String,
    pub tenant_id: String,
}

/// `org.flowable.rest.service.api.repository.ProcessDefinitionResponse`, fields in Flowable's
/// order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessDefinitionResponse {
    pub id: String,
    pub url: String,
    pub key: String,
    pub version: u32,
    pub name: Option<String>,
    pub description: Option<String>,
    pub tenant_id: String,
    pub deployment_id: Option<String>,
    pub deployment_url: Option<String>,
    pub resource: Option<String>,
    pub diagram_resource: Option<String>,
    pub category: Option<String>,
    pub graphical_notation_defined: bool,
    pub suspended: bool,
    pub start_form_defined: bool,
}

/// `org.flowable.rest.service.api.history.HistoricTaskInstanceResponse`, fields in Flowable's
/// order (`url` comes late there too).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoricTaskInstanceResponse {
    pub id: String,
    pub process_definition_id: String,
    pub process_definition_url: String,
    pub process_instance_id: String,
    pub process_instance_url: String,
    pub execution_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub delete_reason: Option<String>,
    pub owner: Option<String>,
    pub assignee: Option<String>,
    pub start_time: String,
    pub end_time: Option<String>,
    pub duration_in_millis: Option<i64>,
    pub work_time_in_millis: Option<i64>,
    pub claim_time: Option<String>,
    pub task_definition_key: String,
    pub form_key: Option<String>,
    pub priority: i32,
    pub due_date: Option<String>,
    pub parent_task_id: Option<String>,
    pub url: String,
    pub variables: Vec<RestVariable>,
    pub scope_definition_id: Option<String>,
    pub scope_id: Option<String>,
    pub sub_scope_id: Option<String>,
    pub scope_type: Option<String>,
    pub propagated_stage_instance_id: Option<String>,
    pub tenant_id: String,
    pub category: Option<String>,
}

/// `org.flowable.rest.service.api.history.HistoricActivityInstanceResponse`, fields in
/// Flowable's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoricActivityInstanceResponse {
    pub id: String,
    pub activity_id: String,
    pub activity_name: Option<String>,
    pub activity_type: Option<&'static str>,
    pub process_definition_id: String,
    pub process_definition_url: String,
    pub process_instance_id: String,
    pub process_instance_url: String,
    pub execution_id: String,
    pub task_id: Option<String>,
    pub called_process_instance_id: Option<String>,
    pub assignee: Option<String>,
    pub start_time: String,
    pub end_time: Option<String>,
    pub duration_in_millis: Option<i64>,
    pub tenant_id: String,
}
