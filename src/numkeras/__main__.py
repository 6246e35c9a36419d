"""``python -m numkeras``: the same as the ``numkeras`` command."""

import sys

from numkeras.cli import main

sys.exit(main())
