"""`python -m bench`: the same as `python -m bench.run_all`."""

import sys

from bench.run_all import main

sys.exit(main())
