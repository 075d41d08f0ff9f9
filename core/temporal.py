"""Connecting to Temporal the same way from the worker, the API and the tools.

Every client uses the pydantic data converter: workflow payloads carry datetimes and pydantic
models, which the default JSON converter cannot round-trip; with PAYLOAD_KEYS set, its payloads
are encrypted (core/codec.py).
"""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RetryConfig, RPCError, RPCStatusCode, TLSConfig

from contracts import search_attributes
from core.codec import data_converter
from core.config import Settings

log = logging.getLogger(__name__)


def _tls_config(settings: Settings) -> bool | TLSConfig:
    files = (
        settings.temporal_tls_client_cert,
        settings.temporal_tls_client_key,
        settings.temporal_tls_server_ca,
    )
    if not settings.temporal_tls and not any(files):
        # Temporal Cloud with an API key needs TLS even without client certificates.
        return settings.temporal_api_key is not None
    return TLSConfig(
        client_cert=settings.temporal_tls_client_cert.read_bytes()
        if settings.temporal_tls_client_cert
        else None,
        client_private_key=settings.temporal_tls_client_key.read_bytes()
        if settings.temporal_tls_client_key
        else None,
        server_root_ca_cert=settings.temporal_tls_server_ca.read_bytes()
        if settings.temporal_tls_server_ca
        else None,
        domain=settings.temporal_tls_server_name,
    )


async def connect(
    settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """Connect with the project's converter. `lazy=True` defers the connection to the first
    call, so the API can start (and report 503) while Temporal is down. `runtime`: the worker's,
    which exports the SDK's metrics (core.metrics.sdk_runtime)."""
    return await Client.connect(
        settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(
            settings.payload_keys.get_secret_value() if settings.payload_keys else None
        ),
        tls=_tls_config(settings),
        api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
        lazy=lazy,
        # Fail fast enough that an HTTP caller gets a 503 rather than a hung request.
        retry_config=RetryConfig(max_retries=2, max_elapsed_time_millis=5_000),
        runtime=runtime,
    )


async def register_search_attributes(client: Client) -> list[str]:
    """Register the project's custom search attributes on a cluster; returns those added.

    Idempotent: attributes already present with the right type are left alone. (Temporal Cloud
    manages attributes through its own control plane: use `tcld` there.)
    """
    try:
        existing = dict(
            (
                await client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=client.namespace)
                )
            ).custom_attributes
        )
    except RPCError as exc:
        # The time-skipping test server implements adding attributes but not listing them.
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = {}
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in search_attributes.ALL
        if key.name not in existing
    }
    for key in search_attributes.ALL:
        have = existing.get(key.name)
        if have is not None and have != int(key.indexed_value_type):
            raise RuntimeError(
                f"search attribute {key.name} exists with another type "
                f"({IndexedValueType.Name(have)}); it must be {key.indexed_value_type.name}"
            )
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)
