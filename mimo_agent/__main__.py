"""`python -m mimo_agent …` is the `mimo-agent` command."""

import sys

from mimo_agent.cli.main import main

sys.exit(main())
