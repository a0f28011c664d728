"""The sandbox's own API, under `/_sandbox/` (documented in the service README)."""

from __future__ import annotations

from fastapi import APIRouter

from platform_sandbox.admin import accounts, control, signup, tokens
from platform_sandbox.sandbox import Sandbox


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter()
    api.include_router(control.router(sandbox))
    api.include_router(accounts.router(sandbox))
    api.include_router(tokens.router(sandbox))
    api.include_router(signup.router(sandbox))
    return api
