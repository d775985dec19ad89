//! Flowable REST dialect (placeholder while the adapter is written on its own branch).

use bpm_compat_model::{Adapter, Command, CoreError, Outcome, RequestCtx};
use bytes::Bytes;
use http::{Request, Response};

#[derive(Debug, Default)]
pub struct Flowable {}

impl Adapter for Flowable {
    type Op = ();
    fn name(&self) -> &'static str {
        "flowable"
    }
    fn op_name(&self, _op: &()) -> &'static str {
        "unknown"
    }
    fn parse(&self, _req: &Request<Bytes>, _ctx: &RequestCtx) -> Result<((), Command), CoreError> {
        Err(CoreError::Unsupported {
            operation: "any".into(),
        })
    }
    fn render(&self, _op: (), _result: Result<Outcome, CoreError>, _ctx: &RequestCtx) -> Response<Bytes> {
        Response::new(Bytes::new())
    }
    fn render_error(&self, _err: CoreError, _ctx: &RequestCtx) -> Response<Bytes> {
        Response::new(Bytes::new())
    }
}
