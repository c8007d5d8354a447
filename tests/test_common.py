"""scikit-learn's own estimator checks, run on both estimators and their variants."""

from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# checks test the API, not what the network learns.
_CHEAP = {"hidden_layer_sizes": (4,), "max_iter": 3, "batch_size": 16}


class _LinearAutoencoder(nn.Module):
    """The smallest custom module: one linear map each way.

    ``encode`` and ``decode`` are submodules here, which serves as well as
    methods: skae only calls them.
    """

    def __init__(self, n_features, n_components, bias=True):
        super().__init__()
        self.encode = nn.Linear(n_features, n_components, bias=bias)
        self.decode = nn.Linear(n_components, n_features, bias=bias)


@parametrize_with_checks(
    [
        AutoencoderTransformer(**_CHEAP),
        AutoencoderOutlierDetector(**_CHEAP),
        AutoencoderOutlierDetector(contamination="auto", **_CHEAP),
        # One instance per member of the autoencoder family.
        AutoencoderTransformer(sparsity=0.1, **_CHEAP),
        AutoencoderOutlierDetector(noise="masking", noise_level=0.2, **_CHEAP),
        AutoencoderTransformer(variational=True, **_CHEAP),
        AutoencoderOutlierDetector(variational=True, **_CHEAP),
        AutoencoderTransformer(dropout=0.2, batch_norm=True, **_CHEAP),
        AutoencoderTransformer(
            module=_LinearAutoencoder, module_params={"bias": False}, **_CHEAP
        ),
        # module__<name> in the constructor, as skorch spells it.
        AutoencoderOutlierDetector(
            module=_LinearAutoencoder, module__bias=False, **_CHEAP
        ),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
