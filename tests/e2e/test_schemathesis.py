"""A bounded schemathesis run against one real node: the OpenAPI document must match the behaviour.

Schemathesis reads the document the node serves at ``/openapi.json`` and sends about 2,000
requests built from it (every phase it has: explicit examples, which it skips while the document
has none; coverage of each constraint's edges; random fuzzing; and stateful sequences along the
document's links, e.g. key_create then key_get/key_label/key_erase), positive and negative. Every check it knows runs, so a server error, a status, content type, header or body
the document does not describe, a schema-violating request that is accepted or a request without
the secret that is not refused fails the test. Generation is deterministic, so a failure
reproduces.

One check is left out on purpose: ``positive_data_acceptance`` expects every schema-valid
request to succeed, but a well-formed request can still name what this node does not have (a key,
a service, a user, a remote path) or ask what its state does not allow; those answers (400, 404,
409, 503) are documented, which is what ``status_code_conformance`` verifies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bitdust.sandbox.network import Sandbox
from bitdust.sandbox.state import NodeRecord
from tests.e2e.helpers import api, secret_of

pytestmark = pytest.mark.e2e

EXCLUDED_OPERATIONS = {
    "process_stop": "stops the node",
    "process_restart": "replaces the node's process in the middle of the run",
    "identity_erase": "wipes the node's identity (and with erase_private_key its master key)",
    "identity_backup": "writes the master private key to any absolute path the fuzzer makes up, outside the sandbox",
}
"""Operations the run must not call, and why; everything else is fair game."""

TEMPORARY_FILTERS: dict[str, str] = {}
"""Operations excluded only until another branch fixes what they break (the lead empties this after merging).

Empty: this run found nothing in the other helpers' areas that needed filtering.
"""

EXCLUDED_CHECKS = ("positive_data_acceptance",)
OPTIONAL_SERVICES = ("service_supplier", "service_customer")
"""Services that are off by default, started for the run so that the fuzzer reaches their methods' real answers."""
MAX_EXAMPLES = 20
REQUEST_TIMEOUT = 30.0
RUN_DEADLINE = 600.0
MIN_REQUESTS = 1500


@pytest.fixture
def networked_node(tmp_path: Path) -> Iterator[NodeRecord]:
    """One node with an identity in a whole small network (identity servers, DHT seeds), as ``make run``.

    The run is meant to reach what the API really does, which on a node without an identity or
    peers would mostly be "not running" answers. Stopped in every case, also when the test fails.
    """
    box = Sandbox(tmp_path / "sandbox")
    try:
        state = box.up(1, id_servers=2, dht_seeds=3)
        yield next(record for record in state.nodes if record.role == "node")
    finally:
        if (box.directory / "sandbox.json").exists():
            box.down()


def _run_schemathesis(node: NodeRecord, document: Path, reports: Path) -> dict[str, Any]:
    """Run the schemathesis CLI (its documented interface) and return its JSON report."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(document),
        "--url",
        f"http://127.0.0.1:{node.rest_port}",
        "--header",
        f"api_secret: {secret_of(node)}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        "all",
        "--exclude-checks",
        ",".join(EXCLUDED_CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        str(REQUEST_TIMEOUT),
        "--report",
        "json",
        "--report-dir",
        str(reports),
        "--no-color",
    ]
    for name in sorted({**EXCLUDED_OPERATIONS, **TEMPORARY_FILTERS}):
        command += ["--exclude-operation-id", name]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_DEADLINE, cwd=reports, stdin=subprocess.DEVNULL
    )
    found = sorted(reports.glob("*.json"))
    assert found, f"schemathesis wrote no report (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
    report = json.loads(found[-1].read_text())
    report["_output"] = completed.stdout[-20000:] + completed.stderr[-5000:]
    report["_returncode"] = completed.returncode
    return report


def test_the_document_matches_the_behaviour(networked_node: NodeRecord, tmp_path: Path) -> None:
    node = networked_node
    # A long poll answers after interface/api/long-poll-timeout; make it short so event_listen
    # calls do not dominate the run (the behaviour is the same, only the wait is shorter).
    status, answer = api(node, "POST", "config/set/v1", key="interface/api/long-poll-timeout", value=1)
    assert status == 200, answer
    # Off by default; on, its methods answer what they really do instead of "not running" (503) each time.
    for service in OPTIONAL_SERVICES:
        status, answer = api(node, "POST", f"service/start/{service}/v1")
        assert status == 200, answer
    status, document = api(node, "GET", "openapi.json")
    assert status == 200
    served = tmp_path / "openapi.json"
    served.write_text(json.dumps(document))
    reports = tmp_path / "reports"
    reports.mkdir()

    started = time.monotonic()
    report = _run_schemathesis(node, served, reports)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {report['test_cases']['generated']} test cases in {elapsed:.1f} s")

    output = report["_output"]
    assert report["failures"] == [], output
    assert report["errors"] == [], output
    assert report["complete"] and report["stop_reason"] == "completed", output
    assert report["_returncode"] == 0, output
    assert report["operations"]["tested"] == len(document_operations(document)) - len(
        {**EXCLUDED_OPERATIONS, **TEMPORARY_FILTERS}
    )
    assert report["phases"]["coverage"]["status"] == "success", report["phases"]
    assert report["phases"]["fuzzing"]["status"] == "success", report["phases"]
    assert report["phases"]["stateful"]["status"] == "success", report["phases"]  # the document's links
    assert report["test_cases"]["generated"] >= MIN_REQUESTS, report["test_cases"]
    status, health = api(node, "GET", "process/health/v1")
    assert status == 200 and health["result"]["alive"] is True, "the node did not survive the run"


def document_operations(document: dict[str, Any]) -> list[str]:
    return [op["operationId"] for item in document["paths"].values() for op in item.values()]
