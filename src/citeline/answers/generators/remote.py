"""What the hosted-model generators share: turning their SDKs' errors into Citeline's typed errors.

The `openai` and `anthropic` SDKs are generated from one template and raise the same exception
classes (APITimeoutError, APIStatusError, APIConnectionError), each from its own module.
"""

from __future__ import annotations

from types import ModuleType

from citeline.core.errors import UpstreamError, UpstreamTimeoutError


def sdk_error(sdk: ModuleType, exc: Exception, endpoint: object) -> Exception:
    """The Citeline error for an SDK failure (after the SDK's own retries); other errors pass through."""
    if isinstance(exc, sdk.APITimeoutError):
        return UpstreamTimeoutError(f"The language model at {endpoint} did not answer in time.")
    if isinstance(exc, sdk.APIStatusError):
        return UpstreamError(f"The language model answered HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, sdk.APIConnectionError):
        return UpstreamError(f"Cannot reach the language model at {endpoint}.")
    return exc
