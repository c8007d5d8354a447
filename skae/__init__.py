"""scikit-learn compatible autoencoders on PyTorch."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from ._outlier import AutoencoderOutlierDetector
from ._transformer import AutoencoderTransformer
from ._version import __version__

__all__ = ["AutoencoderOutlierDetector", "AutoencoderTransformer", "__version__"]
