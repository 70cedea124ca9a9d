"""``python -m ddbstream.cli``: the same as the ``ddbstream`` console script."""

import sys

from . import main

sys.exit(main())
