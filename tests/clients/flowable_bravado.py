"""The Flowable client flow, driven by a third-party client: bravado builds each request from
Flowable's published Swagger document (operation ids, parameters, multipart form data), so the
server is exercised the way a generated Flowable client would call it.

    python flowable_bravado.py BASE_URL SPEC_PATH

BASE_URL is the Flowable mount, e.g. http://127.0.0.1:8080/flowable-rest/service. Exits 0
when the flow went as Flowable would answer it; prints what differed otherwise.
"""

import sys
import urllib.parse

import yaml
from bravado.client import SwaggerClient
from bravado.exception import HTTPError
from bravado.requests_client import RequestsClient

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:flowable="http://flowable.org/bpmn" targetNamespace="http://example.com/claims">
  <process id="bravadoClaim" name="Claim (bravado)">
    <startEvent id="start" />
    <sequenceFlow id="s1" sourceRef="start" targetRef="triage" />
    <userTask id="triage" name="Triage" flowable:candidateGroups="clerks" />
    <sequenceFlow id="s2" sourceRef="triage" targetRef="gw" />
    <exclusiveGateway id="gw" default="toClose" />
    <sequenceFlow id="toReview" sourceRef="gw" targetRef="fork">
      <conditionExpression>${amount > 100}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="toClose" sourceRef="gw" targetRef="end" />
    <parallelGateway id="fork" />
    <sequenceFlow id="f1" sourceRef="fork" targetRef="legal" />
    <sequenceFlow id="f2" sourceRef="fork" targetRef="finance" />
    <userTask id="legal" name="Legal review" flowable:assignee="${requester}" />
    <userTask id="finance" name="Finance review" flowable:candidateUsers="fozzie" />
    <sequenceFlow id="j1" sourceRef="legal" targetRef="join" />
    <sequenceFlow id="j2" sourceRef="finance" targetRef="join" />
    <parallelGateway id="join" />
    <sequenceFlow id="j3" sourceRef="join" targetRef="end" />
    <endEvent id="end" />
  </process>
</definitions>
"""


def check(what, got, want):
    if got != want:
        print(f"FAIL {what}: expected {want!r}, got {got!r}")
        sys.exit(1)
    print(f"ok   {what}")


def body(future):
    """The JSON body of a call, whatever the spec says about its status code."""
    response = future.response(timeout=10).incoming_response
    return response.json() if response.text else None


def main():
    base, spec_path = sys.argv[1], sys.argv[2]
    url = urllib.parse.urlparse(base)
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    # YAML reads the status codes of `responses` as integers; Swagger means strings.
    for ops in spec["paths"].values():
        for op in ops.values():
            if isinstance(op, dict) and "responses" in op:
                op["responses"] = {str(k): v for k, v in op["responses"].items()}
    # A variable's `value` is any JSON (string, number, boolean, object); the document types
    # it `object`, which would make bravado refuse a plain string.
    for name, schema in spec["definitions"].items():
        value = schema.get("properties", {}).get("value")
        if name.endswith("Variable") and value is not None:
            value.pop("type", None)
    spec["host"] = url.netloc
    spec["schemes"] = [url.scheme]
    spec["basePath"] = url.path
    http = RequestsClient()
    http.set_basic_auth(url.netloc, "rest-admin", "test")
    client = SwaggerClient.from_spec(
        spec,
        origin_url=base,
        http_client=http,
        # Flowable's answers carry nulls the Swagger 2.0 schema cannot express, and 201s the
        # document gives no schema: read bodies as plain JSON, check them here.
        config={"validate_responses": False, "validate_swagger_spec": False, "use_models": False},
    )

    deployment = body(
        client.Deployment.uploadDeployment(file=("claim.bpmn20.xml", BPMN), deploymentName="claims")
    )
    check("deployment name", deployment["name"], "claims")

    defs = body(client.Process_Definitions.listProcessDefinitions(key="bravadoClaim", latest=True))
    check("one latest definition", defs["total"], 1)
    definition = defs["data"][0]
    check("definition deployment", definition["deploymentId"], deployment["id"])

    started = body(
        client.Process_Instances.createProcessInstance(
            body={
                "processDefinitionKey": "bravadoClaim",
                "businessKey": "claim-42",
                "variables": [{"name": "requester", "value": "kermit"}],
            }
        )
    )
    pi = started["id"]
    check("started at triage", started["activityId"], "triage")
    check("start definition", started["processDefinitionId"], definition["id"])

    tasks = body(client.Tasks.listTasks(processInstanceId=pi, candidateGroup="clerks"))
    check("one triage task for clerks", [t["taskDefinitionKey"] for t in tasks["data"]], ["triage"])
    triage = tasks["data"][0]["id"]

    client.Tasks.executeTaskAction(taskId=triage, body={"action": "claim", "assignee": "gonzo"}).response(timeout=10)
    check("claimed", body(client.Tasks.getTask(taskId=triage))["assignee"], "gonzo")
    try:
        client.Tasks.executeTaskAction(taskId=triage, body={"action": "claim", "assignee": "piggy"}).response(
            timeout=10
        )
        check("second claim refused", "accepted", "409")
    except HTTPError as e:
        check("second claim refused", e.status_code, 409)

    client.Tasks.executeTaskAction(
        taskId=triage,
        body={"action": "complete", "variables": [{"name": "amount", "type": "long", "value": 500}]},
    ).response(timeout=10)

    parallel = body(client.Tasks.listTasks(processInstanceId=pi))
    check(
        "the gateway forked into two reviews",
        sorted(t["taskDefinitionKey"] for t in parallel["data"]),
        ["finance", "legal"],
    )
    legal = next(t for t in parallel["data"] if t["taskDefinitionKey"] == "legal")
    check("legal assigned by expression", legal["assignee"], "kermit")
    fozzie = body(client.Tasks.listTasks(candidateUser="fozzie", processInstanceId=pi))
    check("fozzie may take finance", [t["taskDefinitionKey"] for t in fozzie["data"]], ["finance"])

    for t in parallel["data"]:
        client.Tasks.executeTaskAction(taskId=t["id"], body={"action": "complete"}).response(timeout=10)

    try:
        client.Process_Instances.getProcessInstance(processInstanceId=pi).response(timeout=10)
        check("runtime instance gone", "found", "404")
    except HTTPError as e:
        check("runtime instance gone", e.status_code, 404)

    history = body(client.History_Process.getHistoricProcessInstance(processInstanceId=pi))
    check("history: business key", history["businessKey"], "claim-42")
    check("history: ended at", history["endActivityId"], "end")
    check("history: duration known", history["durationInMillis"] is not None, True)
    finished = body(
        client.History_Process.listHistoricProcessInstances(
            processDefinitionKey="bravadoClaim", finished=True, includeProcessVariables=True
        )
    )
    ended = [x for x in finished["data"] if x["id"] == pi]
    check("history lists it as finished", len(ended), 1)
    check(
        "history variables",
        sorted((v["name"], v["value"]) for v in ended[0]["variables"]),
        [("amount", 500), ("requester", "kermit")],
    )
    print("flow passed")


if __name__ == "__main__":
    main()
