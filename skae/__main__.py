"""Run the skae command line: ``python -m skae demo``."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import sys

from ._cli import main

sys.exit(main())
