//! The repository resources (`repository/deployments`, `repository/process-definitions`):
//! parsing and rendering.
//!
//! Sources: `DeploymentCollectionResource`, `DeploymentResource`, `DeploymentResponse`,
//! `BaseDeploymentResourceDataResource`, `ProcessDefinitionCollectionResource`,
//! `ProcessDefinitionResponse` and `DefaultContentTypeResolver` in flowable-engine
//! `modules/flowable-rest` and `modules/flowable-common-rest`.

use std::sync::Arc;

use bpm_compat_model::{
    Command, CoreError, DefinitionFilter, DefinitionQuery, DefinitionSort, Deploy, Deployment,
    DeploymentFilter, DeploymentQuery, DeploymentSort, ProcessDefinition, Resource, TextMatch,
};
use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};

use crate::multipart;
use crate::parse::{listing, texts, Listing, Params};
use crate::render::definition_url;
use crate::routes::ListShape;
use crate::wire::{DeploymentResponse, ProcessDefinitionResponse};

fn flag(p: &Params, name: &str) -> bool {
    p.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `POST repository/deployments`: a multipart upload. The first file part is deployed
/// whatever its field name; `deploymentName` and `deploymentKey` come from the query string
/// only, `tenantId` from the query or a form field.
pub fn deploy(req: &Request<Bytes>, p: &Params) -> Result<Command, CoreError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = content_type
        .to_ascii_lowercase()
        .starts_with("multipart/")
        .then(|| multipart::boundary(content_type))
        .flatten()
    else {
        return Err(CoreError::invalid("Multipart request is required"));
    };
    let parts = multipart::parse(req.body(), &boundary)?;
    let Some(file) = parts.iter().find(|part| part.is_file()) else {
        return Err(CoreError::invalid(
            "Multipart request with file content is required",
        ));
    };
    let accepted = |n: &str| {
        n.ends_with(".bpmn20.xml")
            || n.ends_with(".bpmn")
            || n.ends_with(".bar")
            || n.ends_with(".zip")
            || n.ends_with(".process.json")
    };
    let mut name = file.filename.clone().unwrap_or_default();
    if !accepted(&name) {
        name = file.name.clone().unwrap_or_default();
    }
    if !accepted(&name) {
        return Err(CoreError::invalid(
            "File must be of type .bpmn20.xml, .bpmn, .bar or .zip",
        ));
    }
    if name.ends_with(".bar") || name.ends_with(".zip") {
        return Err(CoreError::invalid(
            "Business archives (.bar, .zip) are not supported by bpm-compat; deploy the .bpmn20.xml files",
        ));
    }
    let form = |key: &str| {
        parts
            .iter()
            .find(|part| !part.is_file() && part.name.as_deref() == Some(key))
            .map(multipart::Part::text)
    };
    let deployment_name = p
        .get("deploymentName")
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| name.split('.').next().unwrap_or_default().to_owned());
    Ok(Command::Deploy(Deploy {
        name: Some(deployment_name),
        key: p.get("deploymentKey").map(str::to_owned),
        category: None,
        tenant_id: p
            .get("tenantId")
            .map(str::to_owned)
            .or_else(|| form("tenantId"))
            .unwrap_or_default(),
        resources: vec![Resource {
            name,
            bytes: file.data.clone(),
        }],
        replaces: None,
    }))
}

/// `GET repository/deployments`.
pub fn deployment_query(p: &Params) -> Result<(DeploymentQuery, ListShape), CoreError> {
    let Listing {
        start,
        size,
        sort,
        order,
        shape,
    } = listing(p, "id", |key| {
        Some(match key {
            "id" => DeploymentSort::Id,
            "name" => DeploymentSort::Name,
            "deployTime" => DeploymentSort::DeployTime,
            "tenantId" => DeploymentSort::TenantId,
            _ => return None,
        })
    })?;
    let s = |name: &str| p.get(name).map(str::to_owned);
    let mut f = DeploymentFilter::default();
    let mut impossible = false;
    texts(&mut f.name, s("name"), s("nameLike"), None, &mut impossible);
    texts(&mut f.category, s("category"), None, None, &mut impossible);
    texts(
        &mut f.tenant_id,
        s("tenantId"),
        s("tenantIdLike"),
        None,
        &mut impossible,
    );
    f.category_not = s("categoryNotEquals");
    f.without_tenant = flag(p, "withoutTenantId");
    // Two contradicting conditions, or a parent no deployment here has.
    f.impossible = impossible || p.get("parentDeploymentId").is_some();
    Ok((
        DeploymentQuery {
            filter: f,
            sort,
            order,
            start,
            size,
        },
        shape,
    ))
}

/// `GET repository/process-definitions`.
pub fn definition_query(p: &Params) -> Result<(DefinitionQuery, ListShape), CoreError> {
    let Listing {
        start,
        size,
        sort,
        order,
        shape,
    } = listing(p, "name", |key| {
        Some(match key {
            "name" => DefinitionSort::Name,
            "id" => DefinitionSort::Id,
            "key" => DefinitionSort::Key,
            "category" => DefinitionSort::Category,
            "version" => DefinitionSort::Version,
            "deploymentId" => DefinitionSort::DeploymentId,
            "tenantId" => DefinitionSort::TenantId,
            _ => return None,
        })
    })?;
    let s = |name: &str| p.get(name).map(str::to_owned);
    let mut f = DefinitionFilter::default();
    let mut impossible = false;
    texts(&mut f.key, s("key"), s("keyLike"), None, &mut impossible);
    texts(&mut f.name, s("name"), s("nameLike"), None, &mut impossible);
    texts(
        &mut f.category,
        s("category"),
        s("categoryLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.resource_name,
        s("resourceName"),
        s("resourceNameLike"),
        None,
        &mut impossible,
    );
    texts(
        &mut f.tenant_id,
        s("tenantId"),
        s("tenantIdLike"),
        None,
        &mut impossible,
    );
    // Flowable's ProcessDefinitionCollectionResource: `withoutTenantId=true` keeps the
    // definitions of the default tenant (`false` is ignored).
    if flag(p, "withoutTenantId") && f.tenant_id.is_none() {
        f.tenant_id = Some(TextMatch::Equals(String::new()));
    }
    f.category_not = s("categoryNotEquals");
    f.deployment_id = s("deploymentId");
    if let Some(v) = p.get("version") {
        f.version = Some(v.trim().parse().map_err(|_| {
            CoreError::invalid(format!("Value for param 'version' is not a valid number: '{v}'"))
        })?);
    }
    f.latest = flag(p, "latest");
    if let Some(v) = p.get("suspended") {
        f.suspended = Some(v.eq_ignore_ascii_case("true"));
    }
    f.impossible = impossible;
    Ok((
        DefinitionQuery {
            filter: f,
            sort,
            order,
            start,
            size,
        },
        shape,
    ))
}

pub fn deployment_url(base: &str, id: &str) -> String {
    format!("{base}/repository/deployments/{id}")
}

pub fn deployment_response(d: &Deployment, base: &str) -> DeploymentResponse {
    DeploymentResponse {
        id: d.id.clone(),
        name: d.name.clone(),
        deployment_time: d.deploy_time.to_iso_millis(),
        category: d.category.clone(),
        parent_deployment_id: None,
        url: deployment_url(base, &d.id),
        tenant_id: d.tenant_id.clone(),
    }
}

pub fn definition_response(d: &Arc<ProcessDefinition>, base: &str) -> ProcessDefinitionResponse {
    ProcessDefinitionResponse {
        id: d.id.clone(),
        url: definition_url(base, &d.id),
        key: d.key.clone(),
        version: d.version,
        name: d.name.clone(),
        description: d.description.clone(),
        tenant_id: d.tenant_id.clone(),
        deployment_id: d.deployment_id.clone(),
        deployment_url: d.deployment_id.as_ref().map(|id| deployment_url(base, id)),
        resource: match (&d.deployment_id, &d.resource_name) {
            (Some(dep), Some(name)) => Some(format!("{}/resources/{name}", deployment_url(base, dep))),
            _ => None,
        },
        diagram_resource: None,
        category: d.category.clone(),
        graphical_notation_defined: d.has_layout(),
        suspended: false,
        start_form_defined: false,
    }
}

/// The raw bytes of a resource, typed by its name as Flowable's `DefaultContentTypeResolver`
/// does (no `Content-Type` for names it does not know).
pub fn resource_data(r: &Resource) -> Response<Bytes> {
    let lower = r.name.to_ascii_lowercase();
    let content_type = if lower.ends_with("png") {
        Some("image/png")
    } else if ["xml", "bpmn", "dmn", "form"].iter().any(|e| lower.ends_with(e)) {
        Some("text/xml")
    } else if lower.ends_with(".json") {
        Some("application/json")
    } else {
        None
    };
    let mut resp = Response::new(Bytes::from(r.bytes.clone()));
    if let Some(ct) = content_type {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    *resp.status_mut() = StatusCode::OK;
    resp
}
