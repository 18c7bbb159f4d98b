"""Errors of the index, shown to users as they are: each message says what to do.

Two kinds reach an API caller: a CallerError is the caller's to fix (a 4xx naming
what was wrong); an IndexError is the service's (503). Anything else is a bug (500,
logged with its traceback).
"""


class CallerError(ValueError):
    """Input the caller can fix; the message names what was wrong, never quoting it."""


class InvalidQuery(CallerError):
    """A search the index cannot run as asked (empty query, a mode it was not built for)."""


class IndexError(RuntimeError):  # noqa: A001 - the package's own name, not the builtin's use
    """Base of the retrieval index errors."""


class IndexNotFound(IndexError):
    """No index (or no usable version) at the configured location."""


class IndexCorrupt(IndexError):
    """The index exists but cannot be read."""


class IndexUnavailable(IndexError):
    """The Qdrant server does not answer (timeout, connection refused)."""


class IndexOutdated(IndexError):
    """The index was built by an older version of guichet, in another format."""


class EmbedderMismatch(IndexError):
    """The index was built with another embedder than the one configured."""


class IndexBusy(IndexError):
    """Another build holds the index lock."""


def is_connection_error(exc: BaseException) -> bool:
    """True for timeouts and refused connections anywhere in the exception chain."""
    import httpx

    seen = exc
    while seen is not None:
        if isinstance(seen, (httpx.TransportError, TimeoutError, ConnectionError)):
            return True
        if type(seen).__name__ in {"ResponseHandlingException", "RpcError"}:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
