"""``python -m agentcore.cli``."""

import sys

from .main import main

sys.exit(main())
