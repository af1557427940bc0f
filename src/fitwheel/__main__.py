"""`python -m fitwheel`."""

import sys

from fitwheel.cli import main

sys.exit(main())
