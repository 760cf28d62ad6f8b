"""`python -m omg.daemon`: the same as the `omgd` console script."""

import sys

from omg.daemon.server import main

sys.exit(main())
