"""FastAPI dependencies in one place: services, database session, caller, roles."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import Principal, authenticate
from api.db import transaction
from api.errors import ApiError
from api.ratelimit import RateLimiter
from api.services import Services

bearer = HTTPBearer(auto_error=False, description="Une clé d'API guichet : `Authorization: Bearer gch_…`")


class RateLimited(ApiError):
    def __init__(self, wait_s: float):
        retry = RateLimiter.retry_after_header(wait_s)
        super().__init__(429, f"too many requests for this key; retry after {retry} s", "rate_limited",
                         headers={"Retry-After": retry}, retry_after_s=int(retry))


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_session(services: Services = Depends(get_services)) -> Iterator[Session]:
    """A session for reads. Its teardown may run after the response is sent, so writes
    use api.db.transaction inside the handler: committed before the client is answered."""
    with transaction(services.sessions) as session:
        yield session


def get_principal(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    services: Services = Depends(get_services),
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", "missing_key",
                       headers={"WWW-Authenticate": "Bearer"})
    with transaction(services.sessions) as session:  # commits the key's last use
        principal = authenticate(session, credentials.credentials)
    if principal is None:
        raise ApiError(401, "invalid or revoked API key", "invalid_key", headers={"WWW-Authenticate": "Bearer"})
    wait_s = services.limiter.acquire(principal.key_id)
    if wait_s > 0:
        raise RateLimited(wait_s)
    return principal


def require_roles(*roles: str):
    def dependency(principal: Principal = Depends(get_principal)) -> Principal:
        if not principal.has_role(*roles):
            allowed = sorted({*roles, "admin"})
            raise ApiError(403, f"this action needs the role {', '.join(allowed)}; this key has {principal.role}",
                           "role_required", required_roles=allowed, role=principal.role)
        return principal

    return dependency


def get_retriever(services: Services = Depends(get_services)):
    if services.retriever is None:
        raise HTTPException(503, f"the index is not available: {services.retriever_error or 'not opened'}")
    return services.retriever


def get_draft_service(services: Services = Depends(get_services)):
    service = services.get_draft_service()
    if service is None:
        raise HTTPException(503, f"the draft service is not available: {services.retriever_error or 'no index'}")
    return service
