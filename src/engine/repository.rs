//! Deployments and definitions in the engine: deploying parses and checks every file before
//! the store writes anything; reads and queries are answered from the definition snapshot.

use std::cmp::Ordering;
use std::sync::Arc;

use bpm_compat_model::{
    CoreError, DefinitionQuery, DefinitionRef, DefinitionSelector, DefinitionSort, Deploy, Deployment,
    DeploymentQuery, DeploymentSort, Missing, Page, ProcessDefinition, Resource, SortOrder, Timestamp,
};

use super::Engine;
use crate::definitions::parse_resource;
use crate::store::{Deployed, NewDeployment};

fn page<T>(mut items: Vec<T>, start: usize, size: usize, cmp: impl Fn(&T, &T) -> Ordering) -> Page<T> {
    items.sort_by(cmp);
    Page {
        total: items.len() as u64,
        items: items.into_iter().skip(start).take(size).collect(),
        start,
    }
}

fn ordered(o: Ordering, order: SortOrder) -> Ordering {
    match order {
        SortOrder::Asc => o,
        SortOrder::Desc => o.reverse(),
    }
}

/// Deployment and definition ids are decimal counters (or end in one): compare them as numbers
/// where they are, so `10` follows `9`.
fn numeric(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

impl Engine {
    /// Parses every resource, then writes the deployment in one store step: a file that does
    /// not parse fails the whole deployment, with nothing written.
    pub(super) async fn deploy(
        &self,
        d: Deploy,
        dedupe: bool,
        now: Timestamp,
    ) -> Result<Deployed, CoreError> {
        let replaced = d
            .replaces
            .as_ref()
            .map(|r| self.definition_by_ref(r))
            .transpose()?;
        let mut definitions = Vec::new();
        for r in &d.resources {
            let parsed = parse_resource(&r.name, &r.bytes).map_err(CoreError::invalid)?;
            for p in parsed {
                definitions.push(ProcessDefinition {
                    tenant_id: d.tenant_id.clone(),
                    ordinal: definitions.len() as u32,
                    ..p
                });
            }
        }
        if let Some(old) = replaced {
            if let Some(other) = definitions.iter().find(|p| p.key != old.key) {
                return Err(CoreError::invalid(format!(
                    "A new version of '{}' cannot hold the process '{}'",
                    old.key, other.key
                )));
            }
        }
        let new = NewDeployment {
            deployment: Deployment {
                id: String::new(),
                name: d.name,
                key: d.key,
                category: d.category,
                tenant_id: d.tenant_id,
                deploy_time: now,
                resources: d.resources.iter().map(|r| r.name.clone()).collect(),
            },
            resources: d.resources,
            definitions,
            dedupe,
        };
        let deployed = self.store.deploy(&new).await?;
        // Read the repository again now, so the next command of this node sees it.
        self.definitions().await?;
        Ok(deployed)
    }

    pub(super) fn deployment(&self, id: &str) -> Result<Deployment, CoreError> {
        self.snapshot()
            .deployments()
            .iter()
            .find(|d| d.id == id)
            .cloned()
            .ok_or_else(|| CoreError::NotFound(Missing::Deployment(id.to_owned())))
    }

    pub(super) async fn deployment_resource(
        &self,
        deployment: &str,
        name: &str,
    ) -> Result<Resource, CoreError> {
        let d = self.deployment(deployment)?;
        let missing = || {
            CoreError::NotFound(Missing::Resource {
                deployment: deployment.to_owned(),
                name: name.to_owned(),
            })
        };
        if !d.resources.iter().any(|r| r == name) {
            return Err(missing());
        }
        let bytes = self.store.resource(deployment, name).await?.ok_or_else(missing)?;
        Ok(Resource {
            name: name.to_owned(),
            bytes,
        })
    }

    pub(super) fn list_deployments(&self, q: &DeploymentQuery) -> Page<Deployment> {
        let items: Vec<Deployment> = self
            .snapshot()
            .deployments()
            .iter()
            .filter(|d| q.filter.matches(d))
            .cloned()
            .collect();
        page(items, q.start, q.size, |a, b| {
            let o = match q.sort {
                DeploymentSort::Id => Ordering::Equal,
                DeploymentSort::Name => a.name.cmp(&b.name),
                DeploymentSort::DeployTime => a.deploy_time.cmp(&b.deploy_time),
                DeploymentSort::TenantId => a.tenant_id.cmp(&b.tenant_id),
            };
            ordered(o.then_with(|| numeric(&a.id, &b.id)), q.order)
        })
    }

    pub(super) fn definition(&self, id: &str) -> Result<Arc<ProcessDefinition>, CoreError> {
        self.snapshot()
            .get(id)
            .cloned()
            .ok_or_else(|| CoreError::NotFound(Missing::Definition(DefinitionSelector::Id(id.to_owned()))))
    }

    /// The definition at a position of a deployment.
    pub(super) fn definition_by_ref(&self, r: &DefinitionRef) -> Result<Arc<ProcessDefinition>, CoreError> {
        self.snapshot()
            .all()
            .iter()
            .find(|d| d.deployment_id.as_deref() == Some(r.deployment.as_str()) && d.ordinal == r.ordinal)
            .cloned()
            .ok_or_else(|| {
                CoreError::NotFound(Missing::Definition(DefinitionSelector::Id(format!(
                    "{}#{}",
                    r.deployment, r.ordinal
                ))))
            })
    }

    pub(super) fn list_definitions(&self, q: &DefinitionQuery) -> Page<Arc<ProcessDefinition>> {
        let snapshot = self.snapshot();
        let items: Vec<Arc<ProcessDefinition>> = snapshot
            .all()
            .iter()
            .filter(|d| q.filter.matches(d, || snapshot.is_latest(d)))
            .cloned()
            .collect();
        page(items, q.start, q.size, |a, b| {
            let o = match q.sort {
                DefinitionSort::Name => a.name.cmp(&b.name),
                DefinitionSort::Id => a.id.cmp(&b.id),
                DefinitionSort::Key => a.key.cmp(&b.key),
                DefinitionSort::Category => a.category.cmp(&b.category),
                DefinitionSort::Version => a.version.cmp(&b.version),
                DefinitionSort::DeploymentId => numeric(
                    a.deployment_id.as_deref().unwrap_or(""),
                    b.deployment_id.as_deref().unwrap_or(""),
                ),
                DefinitionSort::TenantId => a.tenant_id.cmp(&b.tenant_id),
            };
            ordered(o.then_with(|| a.id.cmp(&b.id)), q.order)
        })
    }
}
