"""AWS on this machine: moto's server for DynamoDB, S3 and Secrets Manager, provisioned from template.yaml."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from devstack import moto_transactions
from devstack.template import load_template, table_definition

LOCAL_REGION = "us-east-1"


class _Serialized:
    """Runs one request at a time through moto.

    Real DynamoDB serialises writes per item; moto's in-memory backend is not thread-safe (a transaction deep-copies
    tables while another thread mutates them). One lock gives moto the linearizable behaviour our conditional writes
    rely on, while the server still accepts connections concurrently.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            return [b"".join(self._app(environ, start_response))]


@dataclass
class LocalAws:
    endpoint: str
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None
    process: subprocess.Popen[str] | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.thread is not None:
            self.thread.join(timeout=10)
            self.thread = None
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def use_fake_credentials(endpoint: str) -> None:
    """Point every boto3 client of this process (and its children) at ``endpoint``."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", LOCAL_REGION)
    os.environ.setdefault("AWS_REGION", LOCAL_REGION)


class _NoDelayHandler(MotoRequestHandler):
    """Replies go out in several writes (status, headers, body); TCP_NODELAY keeps loopback round trips short."""

    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"  # keep-alive: botocore reuses its connections instead of reconnecting per call


def make_moto_server(host: str, port: int) -> BaseWSGIServer:
    """moto's server (all services), one request at a time, with all-or-nothing transactions at item cost."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto_transactions.install()
    app = _Serialized(DomainDispatcherApplication(create_backend_app))
    return make_server(host, port, app, threaded=True, request_handler=_NoDelayHandler)


def start_moto(host: str = "127.0.0.1", port: int = 0, *, own_process: bool = True) -> LocalAws:
    """Start moto; ``port=0`` picks a free port. By default it gets its own process (and so its own core and GIL):
    the stack's Python threads and moto's request handling then no longer queue behind one another."""
    if own_process:
        proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "devstack.moto_server", "--host", host, "--port", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise RuntimeError("the moto server process did not start")
        return LocalAws(endpoint=json.loads(line)["endpoint"], process=proc)
    server = make_moto_server(host, port)
    thread = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    return LocalAws(endpoint=f"http://{bound_host!s}:{bound_port}", server=server, thread=thread)


@functools.cache
def _client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=LOCAL_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fixed fake credentials
    )


def create_table(endpoint: str, table_name: str) -> None:
    """Create the table exactly as template.yaml defines it (keys, GSIs, stream, TTL)."""
    definition = table_definition(load_template())
    ddb = _client("dynamodb", endpoint)
    # exists already -> fine; not list_tables: it answers 100 names a page, and a test session holds more tables
    with contextlib.suppress(ddb.exceptions.ResourceInUseException):
        ddb.create_table(TableName=table_name, **definition["create_table"])
    ddb.get_waiter("table_exists").wait(TableName=table_name)
    if definition["ttl_attribute"]:
        ddb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": definition["ttl_attribute"]},
        )


def create_bucket(endpoint: str, bucket_name: str) -> None:
    s3 = _client("s3", endpoint)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket_name not in existing:
        s3.create_bucket(Bucket=bucket_name)


def put_secret(endpoint: str, name: str, value: dict[str, Any]) -> str:
    """Create or replace the accounts/admin secret; returns its ARN."""
    sm = _client("secretsmanager", endpoint)
    body = json.dumps(value)
    try:
        return str(sm.create_secret(Name=name, SecretString=body)["ARN"])
    except sm.exceptions.ResourceExistsException:
        return str(sm.put_secret_value(SecretId=name, SecretString=body)["ARN"])
