"""TikTok webhook signatures (security-reliability.md §3.2): `herald.signatures`, the checker
auth-service uses too, under the names this service's webhook receiver and tests know. Two
secrets are accepted while one is rotated."""

from __future__ import annotations

from herald.signatures import SignatureError as BadSignature
from herald.signatures import sign_tiktok as sign
from herald.signatures import verify_tiktok as verify

__all__ = ["BadSignature", "sign", "verify"]
