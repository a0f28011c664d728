"""Each publisher's test environment on the platform sandbox, out of the publishers' own packages
(a service's image ships its package, and this needs platform-sandbox, which it does not ship).

A dev-only workspace member: the root project's dev group installs it, no service depends on it,
and the images install `--no-dev --package <service>`. `env` holds what the four share (the
environment, the `env` fixture); `facebook`, `instagram`, `whatsapp` and `tiktok` what is each
publisher's own (its settings pointed at the sandbox, its requests); `tiktok_flow` drives
publisher-tiktok's flow on the sandbox in-process. Shared helpers live where they belong:
`herald.testkit` (ports, servers, topics), `platform_sandbox.testing` (the sandbox served, its
admin client, token sources).
"""
