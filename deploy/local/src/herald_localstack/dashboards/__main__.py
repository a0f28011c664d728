"""`python -m herald_localstack.dashboards write|check`."""

import sys

from herald_localstack.dashboards import main

raise SystemExit(main(sys.argv[1:]))
