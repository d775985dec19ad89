//! One process state behind every dialect: an instance started through Astro Zero is the same
//! instance through Flowable (business key, typed variables, current activity, suspension),
//! and one started through Flowable is listed and controllable through Astro Zero; on both
//! stores.

mod common;

use common::{get, json, send_with, StoreKind, TestServer, ADMIN};
use serde_json::{json, Value};

/// An Astro Zero access token for Flowable's default user (the one user directory).
async fn token(server: &TestServer) -> String {
    let form = "grant_type=client_credentials&client_id=rest-admin&client_secret=test";
    let reply = send_with(
        "POST",
        &format!("{}/baas/auth/v1.0/oauth2/token", server.root),
        &[("Content-Type".into(), "application/x-www-form-urlencoded".into())],
        form,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let body = reply.json();
    assert_eq!(
        (body["token_type"].clone(), body["expires_in"].clone()),
        (json!("Bearer"), json!(3600))
    );
    body["access_token"].as_str().expect("token").to_owned()
}

/// An Astro Zero call with the token.
async fn astro_call(token: &str, method: &str, url: &str, body: Option<Value>) -> common::Reply {
    let mut headers = vec![("access-token".to_owned(), token.to_owned())];
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    send_with(
        method,
        url,
        &headers,
        body.map(|b| b.to_string()).unwrap_or_default(),
    )
    .await
}

async fn astro_and_flowable_see_one_state(store: StoreKind) {
    let server = TestServer::start(store).await;
    let (astro, flowable) = (server.astro.clone(), server.flowable.clone());
    let t = token(&server).await;

    // Astro Zero → Flowable.
    let started = astro_call(
        &t,
        "POST",
        &format!("{astro}/runtime/instances"),
        Some(json!({"name": "createCloudOK_NEW", "variables": {
            "$Flow.BusinessKey": "cross-1", "$Flow.Title": "Cloud order", "memorySize": 15, "storage": "15",
            "spec": {"cpu": 2}}})),
    )
    .await;
    assert_eq!(started.status, 200, "{}", started.json());
    let astro_id = started.json()["result"]["id"].as_str().expect("id").to_owned();
    let listed = get(&format!(
        "{flowable}/runtime/process-instances?businessKey=cross-1"
    ))
    .await
    .json();
    assert_eq!(listed["total"], 1, "{listed}");
    let pi = listed["data"][0]["id"].as_str().expect("flowable id").to_owned();
    let seen = get(&format!("{flowable}/runtime/process-instances/{pi}"))
        .await
        .json();
    assert_eq!(seen["activityId"], "subProcess");
    assert_eq!(seen["name"], "Cloud order", "$Flow.Title is the instance name");
    assert_eq!(seen["processDefinitionName"], "BP Label 1");
    let vars = get(&format!("{flowable}/runtime/process-instances/{pi}/variables"))
        .await
        .json();
    let typed = |name: &str| {
        vars.as_array()
            .expect("array")
            .iter()
            .find(|v| v["name"] == name)
            .map(|v| (v["type"].clone(), v["value"].clone()))
            .unwrap_or_else(|| panic!("{name} missing in {vars}"))
    };
    assert_eq!(typed("memorySize"), (json!("integer"), json!(15)));
    assert_eq!(typed("storage"), (json!("string"), json!("15")));
    assert_eq!(typed("spec"), (json!("json"), json!({"cpu": 2})));
    assert!(
        !vars
            .as_array()
            .expect("array")
            .iter()
            .any(|v| v["name"].as_str().is_some_and(|n| n.starts_with('$'))),
        "system variables are not stored: {vars}"
    );
    // The instance's task is Flowable's too.
    let tasks = get(&format!("{flowable}/runtime/tasks?processInstanceId={pi}"))
        .await
        .json();
    assert_eq!(tasks["data"][0]["taskDefinitionKey"], "subProcess");

    // Suspended through Flowable, Astro Zero sees it suspended and resumes it.
    let suspended = json(
        "PUT",
        &format!("{flowable}/runtime/process-instances/{pi}"),
        json!({"action": "suspend"}),
    )
    .await;
    assert_eq!(suspended.status, 200);
    let resumed = astro_call(
        &t,
        "PUT",
        &format!("{astro}/runtime/instances/{astro_id}"),
        Some(json!({"action": "resume"})),
    )
    .await
    .json();
    assert_eq!(resumed["result"]["suspended"], false);
    assert_eq!(resumed["result"]["state"], "Waiting for user interaction");
    assert_eq!(
        get(&format!("{flowable}/runtime/process-instances/{pi}"))
            .await
            .json()["suspended"],
        false
    );

    // Flowable → Astro Zero: listed among the instances waiting for users, with its key.
    let started = json(
        "POST",
        &format!("{flowable}/runtime/process-instances"),
        json!({"processDefinitionKey": "oneTaskProcess", "businessKey": "cross-2"}),
    )
    .await
    .json();
    let pi2 = started["id"].as_str().expect("id").to_owned();
    let waiting = astro_call(
        &t,
        "GET",
        &format!(
            "{astro}/runtime/instances?states=Waiting%20for%20user%20interaction&fields=id,name,businessKey,curElement,state"
        ),
        None,
    )
    .await
    .json();
    let items = waiting["result"].as_array().expect("list");
    let item = items
        .iter()
        .find(|i| i["businessKey"] == "cross-2")
        .unwrap_or_else(|| panic!("the Flowable instance is listed: {waiting}"));
    assert_eq!(item["name"], "oneTaskProcess");
    assert_eq!(item["curElement"], "processTask");
    assert_eq!(
        item.as_object().expect("object").len(),
        5,
        "only the fields asked for: {item}"
    );
    let full = astro_call(
        &t,
        "GET",
        &format!("{astro}/runtime/instances?states=Waiting%20for%20user%20interaction"),
        None,
    )
    .await
    .json();
    let full = full["result"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["businessKey"] == "cross-2")
        .cloned()
        .expect("listed");
    assert_eq!(
        (
            full["createdBy.name"].clone(),
            full["createdBy.__objectType"].clone(),
            full["type"].clone()
        ),
        (json!("rest-admin"), json!("User"), json!("BP")),
        "user references are flat keys: {full}"
    );
    let astro_id2 = item["id"].as_str().expect("id").to_owned();
    assert!(astro_id2.starts_with("002N") && astro_id2.len() == 20);

    // Astro Zero writes a variable and terminates it; Flowable sees both.
    let set = astro_call(
        &t,
        "PUT",
        &format!("{astro}/runtime/instances/{astro_id2}/variables"),
        Some(json!({"approved": true})),
    )
    .await;
    assert_eq!(set.json(), json!({"resCode": "0", "resMsg": "Success"}));
    let v = get(&format!(
        "{flowable}/runtime/process-instances/{pi2}/variables/approved"
    ))
    .await
    .json();
    assert_eq!(
        (v["type"].clone(), v["value"].clone()),
        (json!("boolean"), json!(true))
    );
    let ended = astro_call(
        &t,
        "PUT",
        &format!("{astro}/runtime/instances/{astro_id2}"),
        Some(json!({"action": "terminate"})),
    )
    .await
    .json();
    assert_eq!(ended["result"]["isClosed"], true);
    assert_eq!(
        get(&format!("{flowable}/runtime/process-instances/{pi2}"))
            .await
            .status,
        404
    );
    let history = get(&format!("{flowable}/history/historic-process-instances/{pi2}"))
        .await
        .json();
    assert_eq!(history["deleteReason"], "User Terminated");
    let terminated = astro_call(
        &t,
        "GET",
        &format!("{astro}/runtime/instances?states=Terminated"),
        None,
    )
    .await
    .json();
    assert!(terminated["result"]
        .as_array()
        .expect("list")
        .iter()
        .any(|i| i["id"] == astro_id2.as_str()));

    server.stop().await;
}

async fn astro_zero_checks_access_tokens(store: StoreKind) {
    let server = TestServer::start(store).await;
    let list = format!("{}/runtime/instances?states=Running", server.astro);
    let no_token = send_with("GET", &list, &[], "").await;
    assert_eq!(no_token.status, 401);
    assert_eq!(no_token.json()["resCode"], "405230401");
    let bad = astro_call("not-a-token", "GET", &list, None).await;
    assert_eq!(bad.status, 401);
    let t = token(&server).await;
    assert_ne!(t, token(&server).await, "every token is new");
    let ok = astro_call(&t, "GET", &list, None).await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    // Basic credentials are not Astro Zero's way in.
    assert_eq!(get(&list).await.status, 401);
    let token_url = format!("{}/baas/auth/v1.0/oauth2/token", server.root);
    let form = [(
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    let wrong = send_with(
        "POST",
        &token_url,
        &form,
        "grant_type=client_credentials&client_id=rest-admin&client_secret=nope",
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.json()["resCode"].clone()),
        (401, json!("astrozero.0007"))
    );
    let grant = send_with(
        "POST",
        &token_url,
        &form,
        "grant_type=password&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(
        (grant.status, grant.json()["resCode"].clone()),
        (400, json!("astrozero.0002"))
    );
    server.stop().await;
}

/// A BPM designed through Astro Zero's metadata API is a definition every dialect starts and
/// shows; a Flowable deployment is a BPM Astro Zero reads; deleting it through either removes
/// it from both.
async fn definitions_are_shared(store: StoreKind) {
    let server = TestServer::start(store).await;
    let (astro, flowable) = (server.astro.clone(), server.flowable.clone());
    let t = token(&server).await;
    let design = json!({"name": "crossBP", "label": "Cross BP", "version": "2.0.0",
        "startEvents": [{"name": "start", "connector": "review"}],
        "userTasks": [{"name": "review", "label": "Review", "connector": ""}]});
    let created = astro_call(&t, "POST", &format!("{astro}/metadata/definitions"), Some(design)).await;
    assert_eq!(created.status, 200, "{}", created.json());
    let bpm_id = created.json()["result"].as_str().expect("id").to_owned();

    let defs = get(&format!("{flowable}/repository/process-definitions?key=crossBP"))
        .await
        .json();
    assert_eq!(defs["total"], 1, "{defs}");
    let def = &defs["data"][0];
    assert_eq!(
        (def["name"].clone(), def["version"].clone()),
        (json!("Cross BP"), json!(1))
    );
    let deployment = def["deploymentId"].as_str().expect("deployment").to_owned();
    let started = json(
        "POST",
        &format!("{flowable}/runtime/process-instances"),
        json!({"processDefinitionKey": "crossBP", "businessKey": "cross-def-1"}),
    )
    .await;
    assert_eq!(started.status, 201, "{}", started.json());
    assert_eq!(started.json()["activityId"], "review");
    let listed = astro_call(
        &t,
        "GET",
        &format!("{astro}/runtime/instances?states=Waiting%20for%20user%20interaction&fields=businessKey,name,version"),
        None,
    )
    .await
    .json();
    let mine: Vec<&Value> = listed["result"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|i| i["businessKey"] == "cross-def-1")
        .collect();
    assert_eq!(mine.len(), 1, "{listed}");
    assert_eq!(
        (mine[0]["name"].clone(), mine[0]["version"].clone()),
        (json!("crossBP"), json!("2.0.0"))
    );

    // A Flowable deployment is a BPM here, under the id its deployment gives it (the default
    // tenant's oneTaskProcess: tenant1 has one too, without BPMN DI).
    let flowable_one = get(&format!(
        "{flowable}/repository/process-definitions?key=oneTaskProcess&withoutTenantId=true"
    ))
    .await
    .json();
    assert_eq!(flowable_one["total"], 1, "{flowable_one}");
    let default_tenant = &flowable_one["data"][0];
    assert_eq!(default_tenant["tenantId"], "");
    let one_id = bpm_compat_astro_zero::ids::definition_id(
        default_tenant["deploymentId"].as_str().expect("deployment"),
        0,
    );
    let bpms = astro_call(
        &t,
        "GET",
        &format!("{astro}/metadata/definitions?name=oneTaskProcess"),
        None,
    )
    .await
    .json();
    assert!(
        bpms["result"]
            .as_array()
            .expect("list")
            .iter()
            .any(|b| b["id"] == one_id.as_str()),
        "{bpms}"
    );
    let read = astro_call(&t, "GET", &format!("{astro}/metadata/definitions/{one_id}"), None)
        .await
        .json();
    assert_eq!(read["result"]["userTasks"][0]["name"], "processTask", "{read}");
    assert_eq!(
        read["result"]["userTasks"][0]["locationX"], 175,
        "BPMN DI positions show"
    );

    // Deleting the BPM here deletes the deployment Flowable shows.
    let deleted = astro_call(
        &t,
        "DELETE",
        &format!("{astro}/metadata/definitions/{bpm_id}"),
        None,
    )
    .await;
    assert_eq!(
        deleted.json(),
        json!({"resCode": "0", "resMsg": "Success", "result": "1"})
    );
    let gone = get(&format!("{flowable}/repository/deployments/{deployment}")).await;
    assert_eq!(gone.status, 404);
    let again = astro_call(&t, "GET", &format!("{astro}/metadata/definitions/{bpm_id}"), None).await;
    assert_eq!(
        (again.status, again.json()["resCode"].clone()),
        (404, json!("405230006"))
    );
}

/// A webMethods service call; asserts the HTTP 200 and answers `result`.
async fn invoke(server: &TestServer, service: &str, inputs: Value) -> String {
    let reply = json("POST", &format!("{}/{service}", server.webmethods), inputs).await;
    assert_eq!(
        reply.status,
        200,
        "{service}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()["result"].as_str().unwrap_or_default().to_owned()
}

/// The Process Audit Log is one more view of the shared state: what webMethods logs is an
/// instance, activities, variables and comments in Flowable; the Monitor rule refuses a
/// suspend or a stop through Flowable and Astro Zero; an instance Flowable started can be
/// logged through webMethods.
async fn audit_log_is_shared(store: StoreKind) {
    let server = TestServer::start(store).await;
    let flowable = server.flowable.clone();
    let s = &server;
    for (service, inputs) in [
        (
            "createProcessMetadata",
            json!({"processKey": "Billing", "processLabel": "Billing run"}),
        ),
        (
            "createStepMetadata",
            json!({"processKey": "Billing", "stepID": "collect", "stepLabel": "Collect usage"}),
        ),
        (
            "createLoggedFieldMetadata",
            json!({"processKey": "Billing", "stepID": "collect", "documentType": "usage", "fieldName": "units"}),
        ),
        (
            "createLoggedFieldMetadata",
            json!({"processKey": "Billing", "stepID": "collect", "documentType": "usage", "fieldName": "cutoff"}),
        ),
        (
            "createProcessInstance",
            json!({"processKey": "Billing", "processInstanceID": "BR42"}),
        ),
        (
            "createStepInstance",
            json!({"processKey": "Billing", "processInstanceID": "BR42", "stepID": "collect"}),
        ),
        (
            "createLoggedFieldInstance",
            json!({"processKey": "Billing", "processInstanceID": "BR42", "stepID": "collect", "fieldName": "units", "numberValue": "1250"}),
        ),
        (
            "createLoggedFieldInstance",
            json!({"processKey": "Billing", "processInstanceID": "BR42", "stepID": "collect", "fieldName": "cutoff", "dateValue": "2026-11-01 00:00:00"}),
        ),
        (
            "updateProcessInstanceStatus",
            json!({"processKey": "Billing", "processInstanceID": "BR42", "status": "16"}),
        ),
    ] {
        assert_eq!(invoke(s, service, inputs).await, "success", "{service}");
    }
    let listed = get(&format!("{flowable}/runtime/process-instances?businessKey=BR42"))
        .await
        .json();
    assert_eq!(listed["total"], 1, "{listed}");
    let pi = listed["data"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(listed["data"][0]["processDefinitionName"], "Billing run");
    assert_eq!(
        listed["data"][0]["businessStatus"], "Waiting",
        "the Monitor label is the business status"
    );
    let vars = get(&format!("{flowable}/runtime/process-instances/{pi}/variables"))
        .await
        .json();
    let var = |name: &str| {
        vars.as_array()
            .expect("variables")
            .iter()
            .find(|v| v["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        (var("units")["type"].clone(), var("units")["value"].clone()),
        (json!("long"), json!(1250))
    );
    assert_eq!(
        (var("cutoff")["type"].clone(), var("cutoff")["value"].clone()),
        (json!("date"), json!("2026-11-01T00:00:00.000Z"))
    );
    let activities = get(&format!(
        "{flowable}/history/historic-activity-instances?processInstanceId={pi}"
    ))
    .await
    .json();
    assert_eq!(activities["total"], 1, "{activities}");
    assert_eq!(
        (
            activities["data"][0]["activityId"].clone(),
            activities["data"][0]["activityName"].clone(),
            activities["data"][0]["endTime"].clone()
        ),
        (json!("collect"), json!("Collect usage"), Value::Null),
        "a Started step is an open activity"
    );

    // The Monitor rule, in each vendor's own error format.
    let suspend = json(
        "PUT",
        &format!("{flowable}/runtime/process-instances/{pi}"),
        json!({"action": "suspend"}),
    )
    .await;
    assert_eq!(suspend.status, 409, "{}", suspend.json());
    assert_eq!(suspend.json()["message"], "Conflict");
    let stop = common::send(
        "DELETE",
        &format!("{flowable}/runtime/process-instances/{pi}"),
        None,
        String::new(),
        Some(ADMIN),
    )
    .await;
    assert_eq!(stop.status, 409);
    let t = token(s).await;
    let astro_id = format!("002N{}", {
        // The Astro Zero id of the same instance, from its list.
        let listed = astro_call(
            &t,
            "GET",
            &format!(
                "{}/runtime/instances?states=Running&fields=id,businessKey",
                s.astro
            ),
            None,
        )
        .await
        .json();
        let item = listed["result"]
            .as_array()
            .expect("list")
            .iter()
            .find(|i| i["businessKey"] == "BR42")
            .cloned()
            .expect("listed in Astro Zero");
        item["id"].as_str().expect("id")[4..].to_owned()
    });
    let astro = astro_call(
        &t,
        "PUT",
        &format!("{}/runtime/instances/{astro_id}", s.astro),
        Some(json!({"action": "suspend"})),
    )
    .await;
    assert_eq!(
        (astro.status, astro.json()["resCode"].clone()),
        (409, json!("405230005"))
    );

    // A failing step, the process escalated, an error logged: history and comments show it.
    for (service, inputs) in [
        (
            "updateStepInstanceStatus",
            json!({"processKey": "Billing", "processInstanceID": "BR42", "stepID": "collect", "status": "4"}),
        ),
        (
            "updateProcessInstanceStatus",
            json!({"processKey": "Billing", "processInstanceID": "BR42", "status": "33030"}),
        ),
        (
            "createProcessError",
            json!({"processInstanceID": "BR42", "serviceName": "billing:collect", "errorMsg": "Usage feed timed out"}),
        ),
    ] {
        assert_eq!(invoke(s, service, inputs).await, "success", "{service}");
    }
    let history = get(&format!("{flowable}/history/historic-process-instances/{pi}"))
        .await
        .json();
    assert!(
        history["endTime"].is_string(),
        "Failed (Escalated) ends the instance: {history}"
    );
    let activities = get(&format!(
        "{flowable}/history/historic-activity-instances?processInstanceId={pi}"
    ))
    .await
    .json();
    assert!(
        activities["data"][0]["endTime"].is_string(),
        "a Failed step ends: {activities}"
    );
    // A logged change after the end is a business failure, recorded as an error too.
    let late = invoke(s, "createStepInstance", json!({"processKey": "Billing", "processInstanceID": "BR42", "stepID": "collect", "stepIteration": 2})).await;
    assert_eq!(late, "Process instance 'BR42' of process 'Billing' has ended");
    let comments = get(&format!(
        "{flowable}/history/historic-process-instances/{pi}/comments"
    ))
    .await
    .json();
    let messages: Vec<&str> = comments
        .as_array()
        .expect("comments")
        .iter()
        .filter_map(|c| c["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        vec!["Usage feed timed out", late.as_str()],
        "{comments}"
    );

    // An instance Flowable started is logged through webMethods by its business key.
    let started = json(
        "POST",
        &format!("{flowable}/runtime/process-instances"),
        json!({"processDefinitionKey": "oneTaskProcess", "businessKey": "ORDER7"}),
    )
    .await;
    assert_eq!(started.status, 201);
    let fid = started.json()["id"].as_str().expect("id").to_owned();
    for (service, inputs) in [
        (
            "createStepInstance",
            json!({"processKey": "oneTaskProcess", "processInstanceID": "ORDER7", "stepID": "processTask"}),
        ),
        (
            "createProcessError",
            json!({"processInstanceID": "ORDER7", "errorMsg": "Needs a second look"}),
        ),
        (
            "updateProcessInstanceStatus",
            json!({"processKey": "oneTaskProcess", "processInstanceID": "ORDER7", "status": "2"}),
        ),
    ] {
        assert_eq!(invoke(s, service, inputs).await, "success", "{service}");
    }
    let ended = get(&format!("{flowable}/history/historic-process-instances/{fid}"))
        .await
        .json();
    assert!(ended["endTime"].is_string(), "{ended}");
    let tasks = get(&format!("{flowable}/runtime/tasks?processInstanceId={fid}"))
        .await
        .json();
    assert_eq!(tasks["total"], 0, "its task ended with it: {tasks}");
    server.stop().await;
}

/// A service started through IBM BPM's service resource is a Flowable instance (typed
/// variables, current activity), and one Flowable started is resumed to its end through IBM.
async fn ibm_services_share_instances(store: StoreKind) {
    let server = TestServer::start(store).await;
    let flowable = server.flowable.clone();
    let ibm = format!("{}/rest/bpm/wle/v1", server.root);
    let started = common::send(
        "POST",
        &format!("{ibm}/service/FIN@Expense%20Approval?action=start&params=%7B%22amount%22%3A120%2C%22note%22%3A%22taxi%22%7D"),
        None,
        String::new(),
        Some(ADMIN),
    )
    .await;
    assert_eq!(started.status, 200, "{}", String::from_utf8_lossy(&started.body));
    let run = started.json();
    assert_eq!(
        (run["data"]["serviceStatus"].clone(), run["data"]["step"].clone()),
        (json!("coach"), json!("Approve expense"))
    );
    let pi = run["data"]["key"]
        .as_str()
        .expect("key")
        .trim_start_matches('@')
        .to_owned();
    let seen = get(&format!("{flowable}/runtime/process-instances/{pi}"))
        .await
        .json();
    assert_eq!(
        (seen["activityId"].clone(), seen["processDefinitionName"].clone()),
        (json!("approve"), json!("Expense approval"))
    );
    let vars = get(&format!("{flowable}/runtime/process-instances/{pi}/variables"))
        .await
        .json();
    let typed: Vec<(String, String)> = vars
        .as_array()
        .expect("variables")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or_default().to_owned(),
                v["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        typed.contains(&("amount".into(), "integer".into()))
            && typed.contains(&("note".into(), "string".into())),
        "{vars}"
    );

    // Flowable → IBM: started there, resumed here by its key to the end.
    let other = json(
        "POST",
        &format!("{flowable}/runtime/process-instances"),
        json!({"processDefinitionKey": "expenseApproval", "variables": [{"name": "amount", "value": 7}]}),
    )
    .await
    .json();
    let id = other["id"].as_str().expect("id").to_owned();
    let read = get(&format!("{ibm}/service/@{id}?action=getData&field=amount"))
        .await
        .json();
    assert_eq!(read["data"]["resultMap"], json!({"amount": 7}));
    let resumed = common::send(
        "POST",
        &format!("{ibm}/service/@{id}?action=bg0_ok&params=%7B%22approved%22%3Atrue%7D"),
        None,
        String::new(),
        Some(ADMIN),
    )
    .await
    .json();
    assert_eq!(resumed["data"]["serviceStatus"], "end", "{resumed}");
    let history = get(&format!("{flowable}/history/historic-process-instances/{id}"))
        .await
        .json();
    assert!(history["endTime"].is_string(), "{history}");

    // Running now: the service still at its coach, not the one resumed to its end.
    let running = get(&format!("{ibm}/service/currentlyRunning")).await;
    assert_eq!(running.status, 200, "{}", String::from_utf8_lossy(&running.body));
    assert_eq!(running.json()["data"]["instanceIDs"], json!([format!("@{pi}")]));
    server.stop().await;
}

/// A workflow P360 stores is a definition Flowable starts (its statuses user tasks for the
/// workflow task's user group); an item entering one of its statuses in that process shows on
/// the instance as its business status; P360 ends the instance.
async fn p360_workflows_are_definitions(store: StoreKind) {
    let server = TestServer::start(store).await;
    let flowable = server.flowable.clone();
    let xml = "<workflow><identifier>ArticleReview</identifier><label>Article review</label><version>2.1</version>\
        <status><status>toReview</status><workflowTask><userGroup>Editors</userGroup></workflowTask></status>\
        <status><status>toPublish</status><workflowTask><userGroup>Publishers</userGroup></workflowTask></status></workflow>";
    let stored = common::send(
        "POST",
        &format!("{}/rest/V2.0/manage/workflow", server.root),
        Some("application/xml"),
        xml,
        Some(ADMIN),
    )
    .await;
    assert_eq!(stored.status, 200, "{}", String::from_utf8_lossy(&stored.body));
    assert!(String::from_utf8_lossy(&stored.body).contains("<createdCounter>1</createdCounter>"));
    let defs = get(&format!(
        "{flowable}/repository/process-definitions?key=ArticleReview"
    ))
    .await
    .json();
    assert_eq!(
        (defs["total"].clone(), defs["data"][0]["name"].clone()),
        (json!(1), json!("Article review"))
    );
    let started = json(
        "POST",
        &format!("{flowable}/runtime/process-instances"),
        json!({"processDefinitionKey": "ArticleReview"}),
    )
    .await
    .json();
    assert_eq!(started["activityId"], "toReview");
    let id = started["id"].as_str().expect("id").to_owned();
    let tasks = get(&format!(
        "{flowable}/runtime/tasks?candidateGroup=Editors&processInstanceId={id}"
    ))
    .await
    .json();
    assert_eq!(
        (tasks["total"].clone(), tasks["data"][0]["name"].clone()),
        (json!(1), json!("toReview")),
        "{tasks}"
    );
    // An item entering a status of the workflow in that process shows on the instance.
    let rest = format!("{}/rest/V2.0", server.root);
    let item = "<entityItemTable><entityIdentifier>Article</entityIdentifier><rows><row><object><id>7@1</id>\
        <entityId>1000</entityId></object></row></rows></entityItemTable>";
    let written = common::send(
        "POST",
        &format!("{rest}/list/Article"),
        Some("application/xml"),
        item,
        Some(ADMIN),
    )
    .await;
    assert!(String::from_utf8_lossy(&written.body).contains("<createdObjects>1</createdObjects>"));
    let enter = format!(
        "<enterWorkflowStatus><processId>{id}</processId><workflowId>ArticleReview</workflowId>\
         <status>toPublish</status><entity>Article</entity><itemId>7@1</itemId></enterWorkflowStatus>"
    );
    let entered = common::send(
        "POST",
        &format!("{rest}/manage/workflow/status/enter"),
        Some("application/xml"),
        enter,
        Some(ADMIN),
    )
    .await;
    assert!(String::from_utf8_lossy(&entered.body).contains("<successful>true</successful>"));
    let seen = get(&format!("{flowable}/runtime/process-instances/{id}"))
        .await
        .json();
    assert_eq!(seen["businessStatus"], "toPublish", "{seen}");
    // A task created through P360 is in Flowable's task list, named and assigned as asked.
    let profile = "<taskCreationProfile><task><name>Verify all tools</name><taskType>SingleTask</taskType>\
        <entity>Product2G</entity><user>Administrator</user><workflowCorrelationId>123</workflowCorrelationId></task>\
        <content><identifier>byItems</identifier><parameters><entry><key>items</key><value>7@1</value></entry></parameters></content>\
        </taskCreationProfile>";
    let created = common::send(
        "POST",
        &format!("{rest}/manage/task"),
        Some("application/xml"),
        profile,
        Some(ADMIN),
    )
    .await;
    let body = String::from_utf8_lossy(&created.body).into_owned();
    let task_id = body
        .split("<id>")
        .nth(1)
        .and_then(|r| r.split("</id>").next())
        .expect("a task id")
        .to_owned();
    let task = get(&format!("{flowable}/runtime/tasks/{task_id}")).await.json();
    assert_eq!(
        (
            task["name"].clone(),
            task["assignee"].clone(),
            task["description"].clone()
        ),
        (
            json!("Verify all tools"),
            json!("Administrator"),
            json!("SingleTask of Product2G items: 7@1")
        ),
        "{task}"
    );
    let ended = common::send(
        "DELETE",
        &format!("{}/rest/V2.0/manage/workflow/process?processId={id}", server.root),
        None,
        String::new(),
        Some(ADMIN),
    )
    .await;
    assert_eq!((ended.status, ended.body.len()), (204, 0));
    let history = get(&format!("{flowable}/history/historic-process-instances/{id}"))
        .await
        .json();
    assert_eq!(history["deleteReason"], "P360 workflow ended", "{history}");
    server.stop().await;
}

#[tokio::test]
async fn p360_workflows_are_definitions_on_memory() {
    p360_workflows_are_definitions(StoreKind::Memory).await;
}

#[tokio::test]
async fn p360_workflows_are_definitions_on_redis() {
    p360_workflows_are_definitions(StoreKind::Redis).await;
}

#[tokio::test]
async fn ibm_services_share_instances_on_memory() {
    ibm_services_share_instances(StoreKind::Memory).await;
}

#[tokio::test]
async fn ibm_services_share_instances_on_redis() {
    ibm_services_share_instances(StoreKind::Redis).await;
}

#[tokio::test]
async fn audit_log_is_shared_on_memory() {
    audit_log_is_shared(StoreKind::Memory).await;
}

#[tokio::test]
async fn audit_log_is_shared_on_redis() {
    audit_log_is_shared(StoreKind::Redis).await;
}

#[tokio::test]
async fn definitions_are_shared_on_memory() {
    definitions_are_shared(StoreKind::Memory).await;
}

#[tokio::test]
async fn definitions_are_shared_on_redis() {
    definitions_are_shared(StoreKind::Redis).await;
}

#[tokio::test]
async fn astro_zero_checks_access_tokens_on_memory() {
    astro_zero_checks_access_tokens(StoreKind::Memory).await;
}

#[tokio::test]
async fn astro_zero_checks_access_tokens_on_redis() {
    astro_zero_checks_access_tokens(StoreKind::Redis).await;
}

#[tokio::test]
async fn astro_and_flowable_see_one_state_on_memory() {
    astro_and_flowable_see_one_state(StoreKind::Memory).await;
}

#[tokio::test]
async fn astro_and_flowable_see_one_state_on_redis() {
    astro_and_flowable_see_one_state(StoreKind::Redis).await;
}
