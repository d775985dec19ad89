//! Deployments: the files a client deploys, and the process definitions parsed from them.
//!
//! A deployment is immutable once written. Each process of a deployed BPMN file becomes a
//! definition with the next version of its key in the deployment's tenant, and the id
//! `key:version:deploymentId`.

use serde::{Deserialize, Serialize};

use crate::definition::ProcessDefinition;
use crate::query::SortOrder;
use crate::query::TextMatch;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Assigned by the store (decimal digits).
    pub id: String,
    pub name: Option<String>,
    pub key: Option<String>,
    pub category: Option<String>,
    /// `""` is the default tenant.
    pub tenant_id: String,
    pub deploy_time: Timestamp,
    /// Names of its resources, in upload order.
    pub resources: Vec<String>,
}

/// One file of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Which deployments a query selects; `None` means any.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeploymentFilter {
    pub id: Option<String>,
    pub name: Option<TextMatch>,
    pub key: Option<TextMatch>,
    pub category: Option<TextMatch>,
    pub category_not: Option<String>,
    pub tenant_id: Option<TextMatch>,
    pub without_tenant: bool,
    /// A condition no deployment can meet: the query answers nothing.
    #[serde(default)]
    pub impossible: bool,
}

impl DeploymentFilter {
    pub fn matches(&self, d: &Deployment) -> bool {
        let text = |m: &Option<TextMatch>, v: Option<&str>| m.as_ref().is_none_or(|m| m.matches(v));
        !self.impossible
            && self.id.as_ref().is_none_or(|id| &d.id == id)
            && text(&self.name, d.name.as_deref())
            && text(&self.key, d.key.as_deref())
            && text(&self.category, d.category.as_deref())
            && self
                .category_not
                .as_ref()
                .is_none_or(|c| d.category.as_deref() != Some(c.as_str()))
            && text(&self.tenant_id, Some(&d.tenant_id))
            && (!self.without_tenant || d.tenant_id.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeploymentSort {
    #[default]
    Id,
    Name,
    DeployTime,
    TenantId,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeploymentQuery {
    pub filter: DeploymentFilter,
    pub sort: DeploymentSort,
    pub order: SortOrder,
    pub start: usize,
    pub size: usize,
}

/// Which definitions a query selects; `None` means any.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DefinitionFilter {
    pub id: Option<String>,
    pub key: Option<TextMatch>,
    pub name: Option<TextMatch>,
    pub category: Option<TextMatch>,
    pub category_not: Option<String>,
    pub resource_name: Option<TextMatch>,
    pub version: Option<u32>,
    pub deployment_id: Option<String>,
    /// With `deployment_id`: the definition at that position of its deployment.
    #[serde(default)]
    pub ordinal: Option<u32>,
    pub tenant_id: Option<TextMatch>,
    pub without_tenant: bool,
    /// Only the latest version of each key (per tenant).
    pub latest: bool,
    /// Definitions are never suspended here: `Some(true)` selects nothing.
    pub suspended: Option<bool>,
    /// A condition no definition can meet: the query answers nothing.
    #[serde(default)]
    pub impossible: bool,
}

impl DefinitionFilter {
    /// Whether `d` is selected; `is_latest` tells whether it is the latest version of its key
    /// in its tenant (the repository knows, not the definition), asked only when it matters.
    pub fn matches(&self, d: &ProcessDefinition, is_latest: impl FnOnce() -> bool) -> bool {
        let text = |m: &Option<TextMatch>, v: Option<&str>| m.as_ref().is_none_or(|m| m.matches(v));
        !self.impossible
            && self.id.as_ref().is_none_or(|id| &d.id == id)
            && text(&self.key, Some(&d.key))
            && text(&self.name, d.name.as_deref())
            && text(&self.category, d.category.as_deref())
            && self
                .category_not
                .as_ref()
                .is_none_or(|c| d.category.as_deref() != Some(c.as_str()))
            && text(&self.resource_name, d.resource_name.as_deref())
            && self.version.is_none_or(|v| d.version == v)
            && self
                .deployment_id
                .as_ref()
                .is_none_or(|x| d.deployment_id.as_ref() == Some(x))
            && self.ordinal.is_none_or(|o| d.ordinal == o)
            && text(&self.tenant_id, Some(&d.tenant_id))
            && (!self.without_tenant || d.tenant_id.is_empty())
            && (!self.latest || is_latest())
            && self.suspended != Some(true)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DefinitionSort {
    #[default]
    Name,
    Id,
    Key,
    Category,
    Version,
    DeploymentId,
    TenantId,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DefinitionQuery {
    pub filter: DefinitionFilter,
    pub sort: DefinitionSort,
    pub order: SortOrder,
    pub start: usize,
    pub size: usize,
}
