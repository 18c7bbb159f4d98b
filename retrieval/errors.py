"""Errors of the index, shown to users as they are: each message says what to do.

Two kinds reach an API caller: a CallerError is the caller's to fix (a 4xx naming
what was wrong); an IndexFailure is the service's (503). Anything else is a bug (500,
logged with its traceback).
"""


class CallerError(ValueError):
    """Input the caller can fix; the message names what was wrong, never quoting it."""


class InvalidQuery(CallerError):
    """A search the index cannot run as asked (empty query, a mode it was not built for)."""


class IndexFailure(RuntimeError):
    """Base of the retrieval index errors."""


class IndexNotFound(IndexFailure):
    """No index (or no usable version) at the configured location."""


class IndexCorrupt(IndexFailure):
    """The index exists but cannot be read."""


class IndexUnavailable(IndexFailure):
    """The Qdrant server does not answer (timeout, connection refused)."""


class IndexOutdated(IndexFailure):
    """The index was built by an older version of guichet, in another format."""


class EmbedderMismatch(IndexFailure):
    """The index was built with another embedder than the one configured."""


class IndexBusy(IndexFailure):
    """Another build holds the index lock."""


def is_connection_error(exc: BaseException) -> bool:
    """True for timeouts and refused connections anywhere in the exception chain."""
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException

    kinds: tuple[type[BaseException], ...] = (
        httpx.TransportError, TimeoutError, ConnectionError, ResponseHandlingException)
    try:
        from grpc import RpcError  # qdrant-client's gRPC transport, when installed

        kinds += (RpcError,)
    except ImportError:
        pass
    seen = exc
    while seen is not None:
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
