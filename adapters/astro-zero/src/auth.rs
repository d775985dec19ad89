//! Astro Zero's token endpoint, `POST /baas/auth/v1.0/oauth2/token` (mounted apart from the
//! BPM runtime): OAuth2 client credentials from a form body (`grant_type=client_credentials`,
//! `client_id`, `client_secret`; `redirect_url` and `locale` are accepted and ignored), as the
//! user manual (astrozero_06_0042, astrozero_05_0890) documents it. The clients are the users of
//! bpm-compat's one user directory. Calls then send the token in the `access-token` header.
//!
//! The token response is not in Huawei's public pages; bpm-compat answers the OAuth2 shape
//! `{"access_token","token_type":"Bearer","expires_in"}`. Failures use the management-plane
//! codes Huawei does publish: 400 `astrozero.0002` (invalid parameter), 401 `astrozero.0007`
//! (account missing or wrong password).

use bpm_compat_model::{Adapter, AuthScheme, Command, CoreError, ErrorCode, Outcome, RequestCtx};
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use crate::errors::{json_response, Failure};

#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

/// The token endpoint. Needs no configuration.
#[derive(Debug, Clone, Default)]
pub struct AstroZeroAuth;

fn failure(err: &CoreError) -> Response<Bytes> {
    let (code, status) = match err.code() {
        ErrorCode::Unauthorized => ("astrozero.0007", StatusCode::UNAUTHORIZED),
        ErrorCode::InvalidInput | ErrorCode::UnsupportedMediaType => {
            ("astrozero.0002", StatusCode::BAD_REQUEST)
        }
        ErrorCode::UnsupportedOperation => ("astrozero.0002", StatusCode::NOT_FOUND),
        ErrorCode::Unavailable => ("astrozero.0003", StatusCode::INTERNAL_SERVER_ERROR),
        _ => ("astrozero.0001", StatusCode::INTERNAL_SERVER_ERROR),
    };
    let message = match err {
        CoreError::Unauthorized => "The account does not exist or the password is wrong.".to_owned(),
        CoreError::Unavailable { .. } | CoreError::Internal { .. } => "Internal error.".to_owned(),
        other => other.to_string(),
    };
    json_response(
        status,
        &Failure {
            res_code: code.into(),
            res_msg: message,
        },
    )
}

impl Adapter for AstroZeroAuth {
    type Op = ();

    fn name(&self) -> &'static str {
        "astro-zero-auth"
    }

    /// The endpoint checks the client credentials itself (through the engine).
    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::None
    }

    fn op_name(&self, _: &()) -> &'static str {
        "issue_token"
    }

    fn parse(&self, req: &Request<Bytes>, ctx: &RequestCtx) -> Result<((), Command), CoreError> {
        if req.method() != Method::POST || ctx.path != "oauth2/token" {
            return Err(CoreError::Unsupported {
                operation: format!("{} {}", req.method(), ctx.path),
            });
        }
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/x-www-form-urlencoded");
        if !ct
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(CoreError::UnsupportedMedia {
                content_type: ct.to_owned(),
            });
        }
        let body: TokenRequest = serde_urlencoded::from_bytes(req.body())
            .map_err(|e| CoreError::invalid(format!("The request body is not a form: {e}")))?;
        if body.grant_type.as_deref() != Some("client_credentials") {
            return Err(CoreError::invalid("grant_type must be client_credentials"));
        }
        let (Some(client_id), Some(client_secret)) = (body.client_id, body.client_secret) else {
            return Err(CoreError::invalid("client_id and client_secret are required"));
        };
        Ok((
            (),
            Command::IssueToken {
                client_id,
                client_secret,
            },
        ))
    }

    fn render(&self, _: (), result: Result<Outcome, CoreError>, _: &RequestCtx) -> Response<Bytes> {
        match result {
            Ok(Outcome::Token { token, expires_in }) => json_response(
                StatusCode::OK,
                &TokenResponse {
                    access_token: token,
                    token_type: "Bearer",
                    expires_in,
                },
            ),
            Ok(_) => failure(&CoreError::Internal {
                message: "unexpected outcome for issue_token".into(),
            }),
            Err(err) => failure(&err),
        }
    }

    fn render_error(&self, err: CoreError, _: &RequestCtx) -> Response<Bytes> {
        failure(&err)
    }
}
