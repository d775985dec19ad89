//! Runs P360's scheduled jobs (the rules: `bpm_compat_p360::jobs`). A job is an instance of
//! `p360Job`; a worker on every node polls for jobs and moves each on with one atomic engine
//! step at a time, so that one worker wins each move:
//!
//! 1. `queued` → `running` (the claim);
//! 2. the work: read the source items, write what the plan says;
//! 3. `running` → `notifying`, with the result as variables (`jobState`, the counters);
//! 4. the final message to the workflow (its queue binding, or its REST endpoint), then
//!    `notifying` → the end.
//!
//! The worker polls every 100 ms while jobs are open and backs off to 1 s while none are, so
//! a job planned on an idle server starts within a second. Delivery is at least once: a job whose final message could not be sent (or whose worker
//! died) stays at `notifying` and any worker sends it again once it has waited there for the
//! lease; a job whose worker died while `running` is worked again after the lease (its writes
//! are item upserts, so doing them twice leaves the same items).

use std::collections::HashMap;
use std::time::Duration;

use bpm_compat_model::{
    Command, CoreError, InstanceFilter, InstanceId, InstanceQuery, InstanceRef, Item, Outcome,
    ProcessInstance, RequestCtx, Variable, VariableValue,
};
use bpm_compat_p360::jobs::{self, NOTIFYING, QUEUED, RUNNING};
use tracing::{debug, warn};

use crate::p360_queue::Outbox;
use crate::server::{now, App, WeakApp};

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// How often the worker looks for jobs.
    pub poll: Duration,
    /// How long a job may stay `running` or `notifying` before any worker takes it over.
    pub lease: Duration,
    pub outbox: Outbox,
}

fn ctx() -> RequestCtx {
    RequestCtx {
        now: now(),
        request_id: 0,
        base_url: String::new(),
        path: String::new(),
        user: None,
    }
}

async fn apply(app: &App, command: Command) -> Result<Outcome, CoreError> {
    app.engine().apply(command, &ctx()).await
}

/// The open jobs, oldest first (one query on the definition-key index, which is cheap when
/// there are none: the usual case).
async fn open_jobs(app: &App) -> Result<Vec<ProcessInstance>, CoreError> {
    let query = InstanceQuery {
        filter: InstanceFilter {
            definition_key: Some(bpm_compat_model::TextMatch::Equals(jobs::JOB_PROCESS.into())),
            ..InstanceFilter::default()
        },
        size: 64,
        ..InstanceQuery::default()
    };
    match apply(app, Command::ListInstances(query)).await? {
        Outcome::Instances(page) => Ok(page.items.into_iter().map(|v| v.instance).collect()),
        _ => Ok(Vec::new()),
    }
}

/// The key of the path waiting at `activity`.
async fn wait_at(app: &App, id: InstanceId, activity: &str) -> Result<Option<String>, CoreError> {
    let out = apply(
        app,
        Command::GetExecutions {
            instance: id,
            key: None,
            activity_id: Some(activity.into()),
        },
    )
    .await?;
    Ok(match out {
        Outcome::Executions { waits, .. } => waits.into_iter().next().map(|w| w.record.key),
        _ => None,
    })
}

/// Moves the job on from `activity`; false when another worker did first.
async fn step(
    app: &App,
    id: InstanceId,
    activity: &str,
    variables: Vec<Variable>,
) -> Result<bool, CoreError> {
    let Some(key) = wait_at(app, id, activity).await? else {
        return Ok(false);
    };
    match apply(
        app,
        Command::TriggerExecution {
            instance: id,
            key,
            variables,
            transient_variables: Vec::new(),
        },
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(CoreError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

async fn instance(app: &App, id: InstanceId) -> Result<ProcessInstance, CoreError> {
    match apply(app, Command::GetInstance(InstanceRef { id })).await? {
        Outcome::Instance(v) => Ok(v.instance),
        _ => Err(CoreError::Internal {
            message: "unexpected outcome".into(),
        }),
    }
}

/// Every item of an entity in a catalog.
async fn all_items(app: &App, entity: &str, catalog: &str) -> Result<Vec<Item>, CoreError> {
    let mut items = Vec::new();
    loop {
        let page = apply(
            app,
            Command::ListItems {
                entity: entity.into(),
                catalog: catalog.into(),
                start: items.len(),
                size: 500,
            },
        )
        .await?;
        let Outcome::Items(page) = page else { break };
        let got = page.items.len();
        items.extend(page.items);
        if got == 0 || items.len() as u64 >= page.total {
            break;
        }
    }
    Ok(items)
}

/// Does a claimed job's work and records its result (`running` → `notifying`); false when
/// another worker recorded it first. `job` is the job as listed: claiming it changed none of
/// what the work reads.
async fn work(app: &App, job: &ProcessInstance) -> Result<bool, CoreError> {
    let id = job.id;
    let mut plan = match jobs::spec_of(job) {
        Ok(spec) => match jobs::source(&spec) {
            Some((entity, catalog)) => jobs::plan(&spec, &all_items(app, entity, catalog).await?),
            None => jobs::plan(&spec, &[]),
        },
        Err(e) => jobs::Work {
            error: Some(e),
            ..jobs::Work::default()
        },
    };
    let mut created = Vec::new();
    if plan.error.is_none() && !plan.writes.is_empty() {
        match apply(app, Command::WriteItems(plan.writes.clone())).await {
            Ok(Outcome::ItemsWritten(flags)) => created = flags,
            Ok(_) => {}
            Err(e @ (CoreError::Unavailable { .. } | CoreError::Internal { .. })) => return Err(e),
            Err(e) => plan.error = Some(e.to_string()),
        }
    }
    step(app, id, RUNNING, jobs::result_variables(&plan, &created, now())).await
}

/// Sends a job's final message and ends it.
async fn notify(app: &App, outbox: &Outbox, id: InstanceId) -> Result<(), String> {
    let job = instance(app, id).await.map_err(|e| e.to_string())?;
    let message = jobs::final_message(&job);
    let callback = jobs::Callback::of(&job);
    if callback.mode == "QUEUE" {
        let transport = callback.transport.as_deref();
        if message.destination.is_empty() {
            debug!(%id, "P360 job without a queue to answer on.");
        } else if !outbox.has_queue(transport) {
            // Waiting would not help: this node has no binding to send with.
            warn!(%id, queue = %message.destination, "P360 job's final message dropped: no queue binding for it on this node.");
        } else {
            outbox.send_queue(transport, &message).await?;
        }
    } else if let Some(endpoint) = &callback.service_endpoint {
        outbox.send_rest(endpoint, &message).await?;
    }
    step(app, id, NOTIFYING, Vec::new())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// One pass: claims and runs the queued jobs, takes over the ones past their lease. Says
/// whether there were open jobs. [`run`] makes one pass after another.
pub async fn pass(
    app: &App,
    cfg: &JobsConfig,
    backoff: &mut HashMap<InstanceId, tokio::time::Instant>,
) -> bool {
    let lease_ms = cfg.lease.as_millis() as i64;
    let stale = |since: bpm_compat_model::Timestamp| now().0 - since.0 >= lease_ms;
    let open = match open_jobs(app).await {
        Ok(list) => list,
        Err(e) => {
            debug!(error = %e, "P360 jobs cannot be listed.");
            return false;
        }
    };
    let busy = !open.is_empty();
    for job in open {
        let id = job.id;
        let Some(activity) = [QUEUED, RUNNING, NOTIFYING]
            .into_iter()
            .find(|a| job.activity_id.as_deref() == Some(*a))
        else {
            continue;
        };
        let result: Result<(), String> = async {
            let claimed = match activity {
                QUEUED => step(
                    app,
                    id,
                    QUEUED,
                    vec![Variable::new("jobStarted", VariableValue::Date(now()))],
                )
                .await
                .map_err(|e| e.to_string())?,
                // A job another worker left: take it over after the lease (since it was
                // claimed, or since its result was recorded).
                _ => {
                    let since = if activity == RUNNING {
                        "jobStarted"
                    } else {
                        "jobFinished"
                    };
                    match job.variables.get(since) {
                        Some(VariableValue::Date(t)) => stale(*t),
                        _ => true,
                    }
                }
            };
            if !claimed {
                return Ok(());
            }
            if activity != NOTIFYING && !work(app, &job).await.map_err(|e| e.to_string())? {
                return Ok(());
            }
            if backoff
                .get(&id)
                .is_some_and(|until| *until > tokio::time::Instant::now())
            {
                return Ok(());
            }
            notify(app, &cfg.outbox, id).await
        }
        .await;
        match result {
            Ok(()) => {
                backoff.remove(&id);
            }
            Err(e) => {
                warn!(job = %id, error = %e, "P360 job's final message not sent; it is tried again after the lease.");
                backoff.insert(id, tokio::time::Instant::now() + cfg.lease);
            }
        }
    }
    busy
}

/// Runs jobs until the app is gone: polls every `poll` while there are open jobs, and backs
/// off to ten times that while there are none.
pub async fn run(app: WeakApp, cfg: JobsConfig) {
    let mut backoff = HashMap::new();
    let mut idle = cfg.poll;
    loop {
        let Some(app) = app.upgrade() else { return };
        let busy = pass(&app, &cfg, &mut backoff).await;
        drop(app);
        idle = if busy {
            cfg.poll
        } else {
            (idle * 2).min(cfg.poll * 10)
        };
        tokio::time::sleep(idle).await;
    }
}
