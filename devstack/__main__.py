"""``python -m devstack ...`` is ``invoicing-local ...``."""

import sys

from devstack.cli import main

sys.exit(main())
