"""``python -m retention_kit``: the same as the ``retention-kit`` command."""

import sys

from .reporting.cli import main

sys.exit(main())
