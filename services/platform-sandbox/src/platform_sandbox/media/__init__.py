"""Media without the internet: synthetic files served by the sandbox, fetched from loopback."""
