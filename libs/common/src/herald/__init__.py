"""Herald's shared library: what every service imports and nothing imports back.

It never imports a service (docs/architecture.md, "Services and what each owns").
"""

__version__ = "0.1.0"
