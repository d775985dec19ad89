//! `bpm-compat diff`: one vendor-neutral scenario driven through several dialects, every answer
//! and the state it leaves normalized back into the core's terms, compared step by step.
//!
//! Each dialect runs its own instance of the scenario's process; after every step the driver
//! reads the instance back through the same dialect. A field a dialect cannot observe (Astro
//! Zero has no variable read, IBM BPM no business key) is left out of the comparison for it;
//! a value two dialects both observe must be equal. Intended differences are declared in the
//! scenario (`differences`), never silenced here. The format is documented in docs/DIFF.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

type HttpClient = Client<HttpConnector, Full<Bytes>>;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// The scenario file (JSON; see docs/DIFF.md).
    pub scenario: PathBuf,
    /// The dialects to drive, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "flowable,astro-zero,ibm-bpm")]
    pub dialects: Vec<String>,
    /// A running bpm-compat (its root, e.g. `http://127.0.0.1:8080`); by default an embedded
    /// server on the memory store is started for the run.
    #[arg(long)]
    pub base_url: Option<String>,
    /// The process definitions of the embedded server.
    #[arg(long, default_value = "fixtures/definitions")]
    pub definitions: PathBuf,
    #[arg(long, default_value = "rest-admin")]
    pub user: String,
    #[arg(long, default_value = "test")]
    pub password: String,
    /// `table` for people, `json` for machines.
    #[arg(long, default_value = "table")]
    pub format: String,
}

/// A scenario: a business flow in the core's terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The process, by definition key (each dialect derives its own name for it).
    pub process: String,
    pub steps: Vec<ScenarioStep>,
    /// Known, intended differences: this dialect's result at this step is not compared.
    #[serde(default)]
    pub differences: Vec<Declared>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioStep {
    pub op: Operation,
    #[serde(default)]
    pub business_key: Option<String>,
    #[serde(default)]
    pub variables: Map<String, Value>,
    /// For `define`: the process to deploy.
    #[serde(default)]
    pub definition: Option<Definition>,
}

/// A process for `define`: a start, the user tasks in order, an end. Each dialect deploys it in
/// its own format (Flowable: BPMN 2.0 XML; Astro Zero: a BP metadata design).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub key: String,
    pub name: String,
    pub tasks: Vec<String>,
}

impl Definition {
    fn task_id(i: usize) -> String {
        format!("task{}", i + 1)
    }

    /// BPMN 2.0 XML, as any Flowable deploys it.
    pub fn bpmn(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;")
        };
        let mut nodes = vec![("start".to_owned(), "<startEvent id=\"start\"/>".to_owned())];
        for (i, t) in self.tasks.iter().enumerate() {
            let id = Self::task_id(i);
            nodes.push((id.clone(), format!("<userTask id=\"{id}\" name=\"{}\"/>", esc(t))));
        }
        nodes.push(("end".to_owned(), "<endEvent id=\"end\"/>".to_owned()));
        let mut body: String = nodes.iter().map(|(_, n)| n.as_str()).collect();
        for (i, w) in nodes.windows(2).enumerate() {
            body.push_str(&format!(
                "<sequenceFlow id=\"flow{}\" sourceRef=\"{}\" targetRef=\"{}\"/>",
                i + 1,
                w[0].0,
                w[1].0
            ));
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" targetNamespace=\"http://bpm-compat/diff\"><process id=\"{}\" name=\"{}\" isExecutable=\"true\">{body}</process></definitions>",
            esc(&self.key),
            esc(&self.name)
        )
    }

    /// An Astro Zero BP design.
    pub fn astro_design(&self) -> Value {
        let ids: Vec<String> = (0..self.tasks.len()).map(Self::task_id).collect();
        let tasks: Vec<Value> = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, label)| json!({"name": ids[i], "label": label, "connector": ids.get(i + 1).cloned().unwrap_or_default()}))
            .collect();
        json!({"name": self.key, "label": self.name,
               "startEvents": [{"name": "start", "connector": ids.first().cloned().unwrap_or_default()}],
               "userTasks": tasks})
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    /// Deploys the step's `definition`.
    Define,
    Start,
    Read,
    SetVariables,
    Suspend,
    Activate,
    CompleteTask,
    End,
    /// Instances with the step's business key (open ones).
    Query,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// 1-based.
    pub step: usize,
    pub dialect: String,
    pub reason: String,
}

/// What one dialect answered at a step and the state it showed afterwards, in core terms.
/// `None` fields are not observable through that dialect.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    /// `ok`, or the error's class: `not-found`, `conflict`, `invalid`, `unsupported`, `error`.
    pub outcome: String,
    pub state: Option<String>,
    pub activity: Option<String>,
    pub business_key: Option<String>,
    pub variables: Option<BTreeMap<String, Value>>,
    /// A query's number of matching instances.
    pub count: Option<u64>,
}

/// One step's comparison.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    pub step: usize,
    pub op: Operation,
    pub results: BTreeMap<String, Observed>,
    /// Dialects excluded by a declared difference, with the reason.
    pub declared: BTreeMap<String, String>,
    /// Fields on which the compared dialects disagree.
    pub differences: Vec<String>,
}

/// Compares the observations of the dialects not declared different: a field counts where at
/// least two dialects observe it.
pub fn compare(results: &BTreeMap<String, Observed>, declared: &BTreeMap<String, String>) -> Vec<String> {
    let compared: Vec<(&String, &Observed)> = results
        .iter()
        .filter(|(d, _)| !declared.contains_key(*d))
        .collect();
    let mut out = Vec::new();
    let mut check = |field: &str, values: Vec<(&String, Option<Value>)>| {
        let seen: Vec<(&String, Value)> = values
            .into_iter()
            .filter_map(|(d, v)| v.map(|v| (d, v)))
            .collect();
        if seen.windows(2).any(|w| w[0].1 != w[1].1) {
            let what: Vec<String> = seen.iter().map(|(d, v)| format!("{d}={v}")).collect();
            out.push(format!("{field}: {}", what.join(", ")));
        }
    };
    check(
        "outcome",
        compared
            .iter()
            .map(|(d, o)| (*d, Some(json!(o.outcome))))
            .collect(),
    );
    check(
        "state",
        compared
            .iter()
            .map(|(d, o)| (*d, o.state.clone().map(Value::from)))
            .collect(),
    );
    check(
        "activity",
        compared
            .iter()
            .map(|(d, o)| (*d, o.activity.clone().map(Value::from)))
            .collect(),
    );
    check(
        "businessKey",
        compared
            .iter()
            .map(|(d, o)| (*d, o.business_key.clone().map(Value::from)))
            .collect(),
    );
    // Variables: each name both sides show.
    let mut names: Vec<&String> = compared
        .iter()
        .filter_map(|(_, o)| o.variables.as_ref())
        .flat_map(|v| v.keys())
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        check(
            &format!("variables.{name}"),
            compared
                .iter()
                .map(|(d, o)| {
                    (
                        *d,
                        o.variables
                            .as_ref()
                            .map(|v| v.get(name).cloned().unwrap_or(Value::Null)),
                    )
                })
                .collect(),
        );
    }
    out
}

/// An HTTP answer: status and JSON body (`Null` when the body is not JSON).
struct Answer {
    status: u16,
    body: Value,
}

struct Http {
    client: HttpClient,
    root: String,
    basic: String,
}

impl Http {
    async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Result<Answer, String> {
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("{}{url}", self.root));
        for (k, v) in headers {
            b = b.header(*k, v.as_str());
        }
        let req = b
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| format!("cannot build a request: {e}"))?;
        let resp = tokio::time::timeout(TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| format!("{method} {url}: no answer"))?
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?
            .to_bytes();
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    fn auth(&self) -> (&'static str, String) {
        ("Authorization", self.basic.clone())
    }

    async fn json(&self, method: &str, url: &str, body: Value) -> Result<Answer, String> {
        self.send(
            method,
            url,
            &[self.auth(), ("Content-Type", "application/json".into())],
            Some(body.to_string()),
        )
        .await
    }

    async fn get(&self, url: &str) -> Result<Answer, String> {
        self.send("GET", url, &[self.auth()], None).await
    }
}

fn outcome(status: u16) -> String {
    match status {
        200..=299 => "ok",
        404 => "not-found",
        409 => "conflict",
        400 | 415 | 422 => "invalid",
        _ => "error",
    }
    .into()
}

/// A driver's memory of its instance.
#[derive(Default)]
struct Run {
    /// The dialect's instance id.
    id: Option<String>,
    token: Option<String>,
}

const FLOWABLE: &str = "/flowable-rest/service";
const ASTRO: &str = "/u-route/baas/bp/v2.0";
const IBM: &str = "/rest/bpm/wle/v1";

fn flowable_variables(m: &Map<String, Value>) -> Value {
    Value::Array(m.iter().map(|(k, v)| json!({"name": k, "value": v})).collect())
}

fn core_state(state: &str) -> String {
    match state {
        "Waiting for user interaction" | "Running" | "Active" | "New" | "Dispatched" | "STATE_RUNNING" => {
            "active"
        }
        "Suspended" | "Paused" | "STATE_SUSPENDED" => "suspended",
        "Completed OK" | "Completed" | "STATE_FINISHED" => "completed",
        "Terminated" | "User Terminated" | "STATE_TERMINATED" => "terminated",
        "Broken" | "Failed" | "STATE_FAILED" => "failed",
        other => other,
    }
    .into()
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q[1..].to_owned())
        .unwrap_or_default()
}

/// A query by business key: how many open instances have it.
async fn query(http: &Http, dialect: &str, step: &ScenarioStep, run: &mut Run) -> Result<Observed, String> {
    let bk = step.business_key.clone().unwrap_or_default();
    let answer = match dialect {
        "flowable" => {
            let a = http
                .get(&format!(
                    "{FLOWABLE}/runtime/process-instances?businessKey={}",
                    urlencode(&bk)
                ))
                .await?;
            let n = a.body["total"].as_u64();
            Some((a.status, n))
        }
        "astro-zero" => {
            let token = astro_token(http, run).await?;
            let open =
                "New,Running,Waiting for user interaction,Waiting for page event,Paused,Suspended,Dispatched";
            let a = http
                .send(
                    "GET",
                    &format!(
                        "{ASTRO}/runtime/instances?states={}&fields=businessKey",
                        urlencode(open)
                    ),
                    &[("access-token", token)],
                    None,
                )
                .await?;
            let n = a.body["result"]
                .as_array()
                .map(|l| l.iter().filter(|i| i["businessKey"] == bk.as_str()).count() as u64);
            Some((a.status, n))
        }
        // IBM BPM has no business key to query by.
        _ => None,
    };
    Ok(match answer {
        Some((status, count)) => Observed {
            outcome: outcome(status),
            count,
            ..Observed::default()
        },
        None => Observed {
            outcome: "unsupported".into(),
            ..Observed::default()
        },
    })
}

/// Runs one step through one dialect: the answer's outcome, then the state read back.
async fn drive(
    http: &Http,
    dialect: &str,
    process: &str,
    step: &ScenarioStep,
    run: &mut Run,
) -> Result<Observed, String> {
    if step.op == Operation::Query {
        return query(http, dialect, step, run).await;
    }
    let status = match dialect {
        "flowable" => flowable_step(http, process, step, run).await?,
        "astro-zero" => astro_step(http, process, step, run).await?,
        "ibm-bpm" => ibm_step(http, process, step, run).await?,
        other => {
            return Err(format!(
                "unknown dialect '{other}' (flowable, astro-zero, ibm-bpm)"
            ))
        }
    };
    let Some(status) = status else {
        return Ok(Observed {
            outcome: "unsupported".into(),
            ..Observed::default()
        });
    };
    let mut seen = match dialect {
        "flowable" => flowable_read(http, run).await?,
        "astro-zero" => astro_read(http, run).await?,
        _ => ibm_read(http, run).await?,
    };
    seen.outcome = outcome(status);
    Ok(seen)
}

async fn flowable_step(
    http: &Http,
    process: &str,
    step: &ScenarioStep,
    run: &mut Run,
) -> Result<Option<u16>, String> {
    let id = run.id.clone().unwrap_or_default();
    let pi = format!("{FLOWABLE}/runtime/process-instances/{id}");
    let a = match step.op {
        Operation::Define => {
            let Some(d) = &step.definition else {
                return Err("a define step needs a definition".into());
            };
            let boundary = "bpm-compat-diff-boundary";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}.bpmn20.xml\"\r\nContent-Type: text/xml\r\n\r\n{}\r\n--{boundary}--\r\n",
                d.key,
                d.bpmn()
            );
            http.send(
                "POST",
                &format!("{FLOWABLE}/repository/deployments"),
                &[
                    http.auth(),
                    (
                        "Content-Type",
                        format!("multipart/form-data; boundary={boundary}"),
                    ),
                ],
                Some(body),
            )
            .await?
        }
        Operation::Start => {
            let mut body =
                json!({"processDefinitionKey": process, "variables": flowable_variables(&step.variables)});
            if let Some(bk) = &step.business_key {
                body["businessKey"] = json!(bk);
            }
            let a = http
                .json("POST", &format!("{FLOWABLE}/runtime/process-instances"), body)
                .await?;
            run.id = a.body["id"].as_str().map(str::to_owned);
            a
        }
        Operation::Read => http.get(&pi).await?,
        Operation::SetVariables => {
            http.json(
                "PUT",
                &format!("{pi}/variables"),
                flowable_variables(&step.variables),
            )
            .await?
        }
        Operation::Suspend => http.json("PUT", &pi, json!({"action": "suspend"})).await?,
        Operation::Activate => http.json("PUT", &pi, json!({"action": "activate"})).await?,
        Operation::CompleteTask => {
            let tasks = http
                .get(&format!("{FLOWABLE}/runtime/tasks?processInstanceId={id}"))
                .await?;
            let Some(task) = tasks.body["data"][0]["id"].as_str() else {
                return Ok(Some(409));
            };
            http.json(
                "POST",
                &format!("{FLOWABLE}/runtime/tasks/{task}"),
                json!({"action": "complete", "variables": flowable_variables(&step.variables)}),
            )
            .await?
        }
        Operation::End => http.send("DELETE", &pi, &[http.auth()], None).await?,
        Operation::Query => return Ok(None),
    };
    Ok(Some(a.status))
}

async fn flowable_read(http: &Http, run: &Run) -> Result<Observed, String> {
    let Some(id) = &run.id else {
        return Ok(Observed::default());
    };
    let h = http
        .get(&format!("{FLOWABLE}/history/historic-process-instances/{id}"))
        .await?;
    if h.status != 200 {
        return Ok(Observed::default());
    }
    let ended = h.body["endTime"].is_string();
    let state = if ended {
        // Ended at an end event: completed; deleted on its way (no end activity): terminated.
        if h.body["deleteReason"].is_string() || h.body["endActivityId"].is_null() {
            "terminated"
        } else {
            "completed"
        }
        .to_owned()
    } else {
        let r = http
            .get(&format!("{FLOWABLE}/runtime/process-instances/{id}"))
            .await?;
        if r.body["suspended"] == true {
            "suspended"
        } else {
            "active"
        }
        .to_owned()
    };
    let activity = if ended {
        None
    } else {
        http.get(&format!("{FLOWABLE}/runtime/process-instances/{id}"))
            .await?
            .body["activityId"]
            .as_str()
            .map(str::to_owned)
    };
    let vars = http
        .get(&format!(
            "{FLOWABLE}/history/historic-variable-instances?processInstanceId={id}"
        ))
        .await?;
    let variables = if vars.status == 200 {
        Some(
            vars.body["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    let v = &v["variable"];
                    Some((v["name"].as_str()?.to_owned(), v["value"].clone()))
                })
                .collect(),
        )
    } else if !ended {
        let vars = http
            .get(&format!("{FLOWABLE}/runtime/process-instances/{id}/variables"))
            .await?;
        Some(
            vars.body
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| Some((v["name"].as_str()?.to_owned(), v["value"].clone())))
                .collect(),
        )
    } else {
        None
    };
    Ok(Observed {
        outcome: String::new(),
        state: Some(state),
        activity: activity
            .or_else(|| ended.then(String::new))
            .filter(|a| !a.is_empty()),
        business_key: h.body["businessKey"].as_str().map(str::to_owned),
        variables,
        count: None,
    })
}

async fn astro_token(http: &Http, run: &mut Run) -> Result<String, String> {
    if let Some(t) = &run.token {
        return Ok(t.clone());
    }
    let (user, password) = http
        .basic
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())))
        .unwrap_or_default();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        urlencode(&user),
        urlencode(&password)
    );
    let a = http
        .send(
            "POST",
            "/baas/auth/v1.0/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded".into())],
            Some(body),
        )
        .await?;
    let token = a.body["access_token"].as_str().unwrap_or_default().to_owned();
    run.token = Some(token.clone());
    Ok(token)
}

async fn astro_step(
    http: &Http,
    process: &str,
    step: &ScenarioStep,
    run: &mut Run,
) -> Result<Option<u16>, String> {
    let token = astro_token(http, run).await?;
    let headers = [
        ("access-token", token),
        ("Content-Type", "application/json".into()),
    ];
    let id = run.id.clone().unwrap_or_default();
    let one = format!("{ASTRO}/runtime/instances/{id}");
    let send = |method: &'static str, url: String, body: Value| {
        let headers = headers.clone();
        async move { http.send(method, &url, &headers, Some(body.to_string())).await }
    };
    let a = match step.op {
        Operation::Define => {
            let Some(d) = &step.definition else {
                return Err("a define step needs a definition".into());
            };
            send("POST", format!("{ASTRO}/metadata/definitions"), d.astro_design()).await?
        }
        Operation::Start => {
            let mut vars = step.variables.clone();
            if let Some(bk) = &step.business_key {
                vars.insert("$Flow.BusinessKey".into(), json!(bk));
            }
            let a = send(
                "POST",
                format!("{ASTRO}/runtime/instances"),
                json!({"name": process, "variables": vars}),
            )
            .await?;
            run.id = a.body["result"]["id"].as_str().map(str::to_owned);
            a
        }
        // Astro Zero documents no read of one instance: the list is the read.
        Operation::Read => return Ok(Some(if run.id.is_some() { 200 } else { 404 })),
        Operation::SetVariables => {
            send(
                "PUT",
                format!("{one}/variables"),
                Value::Object(step.variables.clone()),
            )
            .await?
        }
        Operation::Suspend => send("PUT", one, json!({"action": "suspend"})).await?,
        Operation::Activate => send("PUT", one, json!({"action": "resume"})).await?,
        Operation::End => send("PUT", one, json!({"action": "terminate"})).await?,
        // No public task API.
        Operation::CompleteTask | Operation::Query => return Ok(None),
    };
    Ok(Some(a.status))
}

async fn astro_read(http: &Http, run: &mut Run) -> Result<Observed, String> {
    let Some(id) = run.id.clone() else {
        return Ok(Observed::default());
    };
    let token = astro_token(http, run).await?;
    let states = "New,Running,Waiting for user interaction,Waiting for page event,Completed OK,Paused,Broken,Suspended,User Terminated,Terminated,Dispatched,CompletedOkWait";
    let a = http
        .send(
            "GET",
            &format!("{ASTRO}/runtime/instances?states={}", urlencode(states)),
            &[("access-token", token)],
            None,
        )
        .await?;
    let item = a.body["result"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["id"] == id.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    let state = item["state"].as_str().map(core_state);
    let activity = item["curElement"]
        .as_str()
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    let business_key = item["businessKey"]
        .as_str()
        .filter(|bk| *bk != id)
        .map(str::to_owned);
    Ok(Observed {
        outcome: String::new(),
        activity: if state.as_deref() == Some("active") || state.as_deref() == Some("suspended") {
            activity
        } else {
            None
        },
        state,
        business_key,
        variables: None,
        count: None,
    })
}

async fn ibm_step(
    http: &Http,
    process: &str,
    step: &ScenarioStep,
    run: &mut Run,
) -> Result<Option<u16>, String> {
    let id = run.id.clone().unwrap_or_default();
    let post = |url: String| async move { http.send("POST", &url, &[http.auth()], None).await };
    let params = urlencode(&Value::Object(step.variables.clone()).to_string());
    let a = match step.op {
        Operation::Start => {
            let a = post(format!(
                "{IBM}/process?action=start&bpdId=25.{process}&params={params}"
            ))
            .await?;
            run.id = a.body["data"]["piid"].as_str().map(str::to_owned);
            a
        }
        Operation::Read => http.get(&format!("{IBM}/process/{id}")).await?,
        Operation::SetVariables => {
            http.json(
                "PUT",
                &format!("{IBM}/process/{id}/variables"),
                Value::Object(step.variables.clone()),
            )
            .await?
        }
        Operation::Suspend => post(format!("{IBM}/process/{id}?action=suspend")).await?,
        Operation::Activate => post(format!("{IBM}/process/{id}?action=resume")).await?,
        Operation::End => post(format!("{IBM}/process/{id}?action=terminate")).await?,
        // IBM BPM deploys process apps from its designer, not through wle/v1.
        Operation::Query | Operation::Define => return Ok(None),
        Operation::CompleteTask => {
            let details = http.get(&format!("{IBM}/process/{id}")).await?;
            let open = details.body["data"]["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["status"] == "Received")
                .and_then(|t| t["tkiid"].as_str())
                .map(str::to_owned);
            let Some(task) = open else {
                return Ok(Some(409));
            };
            post(format!("{IBM}/task/{task}?action=finish&params={params}")).await?
        }
    };
    Ok(Some(a.status))
}

async fn ibm_read(http: &Http, run: &Run) -> Result<Observed, String> {
    let Some(id) = &run.id else {
        return Ok(Observed::default());
    };
    let a = http.get(&format!("{IBM}/process/{id}")).await?;
    let d = &a.body["data"];
    Ok(Observed {
        outcome: String::new(),
        state: d["executionState"].as_str().map(core_state),
        // ProcessDetails names no activity; the business key is not an IBM concept.
        activity: None,
        business_key: None,
        variables: d["variables"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        count: None,
    })
}

/// Runs a scenario through the dialects against a server at `root`.
pub async fn run(
    scenario: &Scenario,
    dialects: &[String],
    root: &str,
    user: &str,
    password: &str,
) -> Result<Vec<StepReport>, String> {
    let http = Http {
        client: Client::builder(TokioExecutor::new()).build_http(),
        root: root.trim_end_matches('/').to_owned(),
        basic: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        ),
    };
    let mut runs: BTreeMap<String, Run> = dialects.iter().map(|d| (d.clone(), Run::default())).collect();
    let mut reports = Vec::new();
    for (n, step) in scenario.steps.iter().enumerate() {
        let number = n + 1;
        let mut results = BTreeMap::new();
        for (dialect, run) in runs.iter_mut() {
            results.insert(
                dialect.clone(),
                drive(&http, dialect, &scenario.process, step, run).await?,
            );
        }
        let declared: BTreeMap<String, String> = scenario
            .differences
            .iter()
            .filter(|d| d.step == number && results.contains_key(&d.dialect))
            .map(|d| (d.dialect.clone(), d.reason.clone()))
            .collect();
        let differences = compare(&results, &declared);
        reports.push(StepReport {
            step: number,
            op: step.op,
            results,
            declared,
            differences,
        });
    }
    Ok(reports)
}

/// The reports as a table for people.
pub fn table(scenario: &Scenario, reports: &[StepReport]) -> String {
    let mut out = format!("scenario: {}\n", scenario.name);
    for r in reports {
        let _ = writeln!(out, "\nstep {} {:?}", r.step, r.op);
        let _ = writeln!(
            out,
            "  {:<11} {:<12} {:<10} {:<18} {:<14} {:<6} variables",
            "dialect", "outcome", "state", "activity", "businessKey", "count"
        );
        for (d, o) in &r.results {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            let vars = o
                .variables
                .as_ref()
                .map_or("-".into(), |v| serde_json::to_string(v).unwrap_or_default());
            let mark = r
                .declared
                .get(d)
                .map(|why| format!("  (declared: {why})"))
                .unwrap_or_default();
            let count = o.count.map_or("-".into(), |c| c.to_string());
            let _ = writeln!(
                out,
                "  {:<11} {:<12} {:<10} {:<18} {:<14} {count:<6} {vars}{mark}",
                d,
                o.outcome,
                show(&o.state),
                show(&o.activity),
                show(&o.business_key)
            );
        }
        if r.differences.is_empty() {
            let _ = writeln!(out, "  = same");
        } else {
            for d in &r.differences {
                let _ = writeln!(out, "  ! DIFFERENT {d}");
            }
        }
    }
    let total: usize = reports.iter().map(|r| r.differences.len()).sum();
    let _ = writeln!(out, "\n{} step(s), {total} difference(s)", reports.len());
    out
}

/// Starts an embedded server on the memory store at 127.0.0.1 (a free port); answers its root
/// and a handle that stops it.
async fn embedded(definitions: PathBuf) -> Result<(String, tokio::sync::oneshot::Sender<()>), String> {
    let config = crate::config::ServeConfig {
        definitions,
        ..crate::config::ServeConfig::default()
    };
    let app = config
        .build_app()
        .await
        .map_err(|e| format!("the embedded server does not start: {e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        let _ = crate::server::run(listener, app, shutdown, Duration::from_secs(1)).await;
    });
    Ok((format!("http://{addr}"), stop))
}

pub fn load(path: &std::path::Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The subcommand: exit 0 when the dialects agree (declared differences aside), 1 on any
/// difference, 2 when the run cannot be made.
pub async fn run_cli(args: DiffArgs) -> ExitCode {
    let result = async {
        let scenario = load(&args.scenario)?;
        let (root, stop) = match &args.base_url {
            Some(url) => (url.clone(), None),
            None => {
                let (root, stop) = embedded(args.definitions.clone()).await?;
                (root, Some(stop))
            }
        };
        let reports = run(&scenario, &args.dialects, &root, &args.user, &args.password).await;
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        Ok::<_, String>((scenario, reports?))
    }
    .await;
    match result {
        Ok((scenario, reports)) => {
            if args.format == "json" {
                println!("{}", serde_json::to_string_pretty(&reports).unwrap_or_default());
            } else {
                print!("{}", table(&scenario, &reports));
            }
            if reports.iter().all(|r| r.differences.is_empty()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("diff: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(outcome: &str, state: Option<&str>, vars: Option<Value>) -> Observed {
        Observed {
            outcome: outcome.into(),
            state: state.map(str::to_owned),
            activity: None,
            business_key: None,
            variables: vars.and_then(|v| serde_json::from_value(v).ok()),
            count: None,
        }
    }

    #[test]
    fn fields_are_compared_where_two_dialects_observe_them() {
        let mut results = BTreeMap::new();
        results.insert("a".to_owned(), seen("ok", Some("active"), Some(json!({"x": 1}))));
        results.insert("b".to_owned(), seen("ok", Some("active"), None));
        results.insert("c".to_owned(), seen("ok", None, Some(json!({"x": 1}))));
        assert!(compare(&results, &BTreeMap::new()).is_empty());
        results.insert("c".to_owned(), seen("ok", None, Some(json!({"x": 2}))));
        assert_eq!(
            compare(&results, &BTreeMap::new()),
            vec!["variables.x: a=1, c=2".to_owned()]
        );
        let declared = BTreeMap::from([("c".to_owned(), "c rounds".to_owned())]);
        assert!(
            compare(&results, &declared).is_empty(),
            "a declared difference is not compared"
        );
        results.insert("b".to_owned(), seen("conflict", Some("active"), None));
        assert_eq!(
            compare(&results, &declared),
            vec!["outcome: a=\"ok\", b=\"conflict\"".to_owned()]
        );
    }

    #[test]
    fn a_variable_one_side_lacks_is_a_difference() {
        let mut results = BTreeMap::new();
        results.insert("a".to_owned(), seen("ok", None, Some(json!({"x": 1, "y": 2}))));
        results.insert("b".to_owned(), seen("ok", None, Some(json!({"x": 1}))));
        assert_eq!(
            compare(&results, &BTreeMap::new()),
            vec!["variables.y: a=2, b=null".to_owned()]
        );
    }
}
