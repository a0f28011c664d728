"""Where Graph is and how Herald calls it: one settings piece every Meta publisher nests.

A publisher's settings class holds it as `graph`, so `HERALD_PUBLISHER_FACEBOOK_GRAPH__BASE_URL`
points the Facebook publisher at the platform sandbox
(`http://127.0.0.1:8120/graph.facebook.com`) without any other change.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from herald.http import HttpClientSettings


class GraphSettings(BaseModel):
    model_config = {"extra": "forbid"}

    base_url: str = Field(
        default="https://graph.facebook.com", description="Graph host, without the version."
    )
    instagram_base_url: str = Field(
        default="https://graph.instagram.com",
        description="Instagram API with Instagram Login: accounts connected by Business Login.",
    )
    video_base_url: str = Field(
        default="https://graph-video.facebook.com",
        description="The host Page video uploads go to (platform-apis.md §1.2).",
    )
    api_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")
    app_secret: SecretStr | None = Field(
        default=None, description="Signs every call with appsecret_proof when set."
    )
    http: HttpClientSettings = Field(
        default_factory=lambda: HttpClientSettings(read_timeout_s=20.0),
        description="Timeouts and pool of the Graph HTTP client.",
    )
