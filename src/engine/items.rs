//! Product-information items (P360's) and their workflow statuses: an item enters or leaves a
//! status of a workflow definition; the item keeps its status per workflow (the value
//! `workflow:<key>`), and an entered status shows on the process instance as its business
//! status.

use std::collections::BTreeMap;

use bpm_compat_model::{
    ActivityKind, CoreError, Item, ItemStatusChange, LoggedInstance, RequestCtx, StatusChange,
};

use super::Engine;
use crate::store::Commit;

impl Engine {
    pub(super) async fn change_item_status(
        &self,
        c: ItemStatusChange,
        _ctx: &RequestCtx,
    ) -> Result<StatusChange, CoreError> {
        let item = self.store.get_item(&c.item).await?;
        let definition = self.latest(&c.workflow).ok();
        let status_found = definition.as_ref().is_some_and(|d| {
            d.activities
                .iter()
                .any(|a| a.id == c.status && a.kind == ActivityKind::UserTask)
        });
        let field = format!("workflow:{}", c.workflow);
        let current = item
            .as_ref()
            .and_then(|i| i.values.get(&field))
            .filter(|s| !s.is_empty());
        let mut change = StatusChange {
            item_found: item.is_some(),
            workflow_found: definition.is_some(),
            status_found,
            was_in_status: current == Some(&c.status),
            done: false,
        };
        let allowed = if c.enter {
            status_found
        } else {
            change.was_in_status
        };
        let Some(item) = item.filter(|_| change.workflow_found && allowed) else {
            return Ok(change);
        };
        let mut values = BTreeMap::new();
        values.insert(field, if c.enter { c.status.clone() } else { String::new() });
        self.store
            .write_items(&[Item {
                id: item.id,
                entity: item.entity,
                entity_id: None,
                label: None,
                values,
            }])
            .await?;
        if let (true, Some(process)) = (c.enter, &c.process) {
            if let Some(i) = self
                .by_client_id(None, process)
                .await?
                .filter(|i| i.state.is_open())
            {
                let r = LoggedInstance {
                    key: i.definition_key.clone(),
                    id: process.clone(),
                };
                let status = c.status.clone();
                self.log_commit(&r, |i, revision| {
                    Ok(Commit {
                        business_status: Some(status.clone()),
                        ..Commit::new(i.id, revision)
                    })
                })
                .await?;
            }
        }
        change.done = true;
        Ok(change)
    }
}
