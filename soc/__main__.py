"""``python -m soc`` is the ``hetsoc`` command."""
import sys

from .cli import main

sys.exit(main())
