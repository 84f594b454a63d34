"""``python -m streaming.cli``: the same as the ``omdb-lakehouse`` script."""

import sys

from streaming.cli import main

sys.exit(main())
