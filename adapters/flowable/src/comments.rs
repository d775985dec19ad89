//! Comments on process instances (`history/historic-process-instances/{id}/comments`,
//! Flowable's `HistoricProcessInstanceCommentCollectionResource` and `…CommentResource`):
//! users' comments, and the errors an integration process's client logged (webMethods'
//! `createProcessError`), which Flowable shows as comments too.

use bpm_compat_model::{Command, Comment, CoreError, InstanceId, Missing, RequestCtx};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use crate::errors::json_response;
use crate::ids::render_instance_id;
use crate::parse::json_body;
use crate::tasks::historic_instance_url;

/// `CommentResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentResponse {
    pub id: String,
    pub author: Option<String>,
    pub message: String,
    pub time: String,
    pub task_id: Option<String>,
    pub task_url: Option<String>,
    pub process_instance_id: String,
    pub process_instance_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentRequest {
    message: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    save_process_instance_id: Option<bool>,
}

pub fn response(c: &Comment, ctx: &RequestCtx) -> CommentResponse {
    CommentResponse {
        id: c.id.clone(),
        author: c.author.clone(),
        message: c.message.clone(),
        time: c.time.to_iso_millis(),
        task_id: None,
        task_url: None,
        process_instance_id: render_instance_id(c.instance_id),
        process_instance_url: historic_instance_url(&ctx.base_url, c.instance_id),
    }
}

/// `POST …/comments` `{"message": …}`: a comment by the authenticated user.
pub fn create(id: InstanceId, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<Command, CoreError> {
    let body: CommentRequest = json_body(req)?;
    let Some(message) = body.message.filter(|m| !m.is_empty()) else {
        return Err(CoreError::invalid("Comment text is required."));
    };
    Ok(Command::AddComment(Comment {
        id: String::new(),
        instance_id: id,
        time: ctx.now,
        author: ctx.user.clone(),
        kind: "comment".into(),
        message,
        source: None,
        details: None,
    }))
}

pub fn created(c: &Comment, ctx: &RequestCtx) -> Response<Bytes> {
    json_response(StatusCode::CREATED, &response(c, ctx))
}

pub fn list(comments: &[Comment], ctx: &RequestCtx) -> Response<Bytes> {
    let body: Vec<CommentResponse> = comments.iter().map(|c| response(c, ctx)).collect();
    json_response(StatusCode::OK, &body)
}

/// One comment of the list; an id the instance does not have is a 404.
pub fn one(
    comments: &[Comment],
    id: InstanceId,
    comment: &str,
    ctx: &RequestCtx,
) -> Result<Response<Bytes>, CoreError> {
    comments
        .iter()
        .find(|c| c.id == comment)
        .map(|c| json_response(StatusCode::OK, &response(c, ctx)))
        .ok_or_else(|| {
            CoreError::NotFound(Missing::Comment {
                instance: id,
                id: comment.to_owned(),
            })
        })
}
