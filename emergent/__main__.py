"""`python -m emergent` is the `emergent` command."""

import sys

from emergent.cli import main

sys.exit(main())
