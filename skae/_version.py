"""The version of skae."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

__version__ = "0.1.0"
