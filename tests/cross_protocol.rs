//! One process state behind every dialect: an instance started through Astro Zero is the same
//! instance through Flowable (business key, typed variables, current activity, suspension),
//! and one started through Flowable is listed and controllable through Astro Zero; on both
//! stores.

mod common;

use common::{get, json, StoreKind, TestServer};
use serde_json::json;

async fn astro_and_flowable_see_one_state(store: StoreKind) {
    let server = TestServer::start(store).await;
    let (astro, flowable) = (server.astro.clone(), server.flowable.clone());

    // Astro Zero → Flowable.
    let started = json(
        "POST",
        &format!("{astro}/runtime/instances"),
        json!({"name": "createCloudOK_NEW", "variables": {
            "$Flow.BusinessKey": "cross-1", "$Flow.Title": "Cloud order", "memorySize": 15, "storage": "15",
            "spec": {"cpu": 2}}}),
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
    let resumed = json(
        "PUT",
        &format!("{astro}/runtime/instances/{astro_id}"),
        json!({"action": "resume"}),
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
    let waiting = get(&format!(
        "{astro}/runtime/instances?states=Waiting%20for%20user%20interaction&fields=id,name,businessKey,curElement,state"
    ))
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
    let astro_id2 = item["id"].as_str().expect("id").to_owned();
    assert!(astro_id2.starts_with("002N") && astro_id2.len() == 20);

    // Astro Zero writes a variable and terminates it; Flowable sees both.
    let set = json(
        "PUT",
        &format!("{astro}/runtime/instances/{astro_id2}/variables"),
        json!({"approved": true}),
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
    let ended = json(
        "PUT",
        &format!("{astro}/runtime/instances/{astro_id2}"),
        json!({"action": "terminate"}),
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
    let terminated = get(&format!("{astro}/runtime/instances?states=Terminated"))
        .await
        .json();
    assert!(terminated["result"]
        .as_array()
        .expect("list")
        .iter()
        .any(|i| i["id"] == astro_id2.as_str()));

    server.stop().await;
}

#[tokio::test]
async fn astro_and_flowable_see_one_state_on_memory() {
    astro_and_flowable_see_one_state(StoreKind::Memory).await;
}

#[tokio::test]
async fn astro_and_flowable_see_one_state_on_redis() {
    astro_and_flowable_see_one_state(StoreKind::Redis).await;
}
