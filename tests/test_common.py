"""scikit-learn's own estimator checks, run on both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

# Small networks and few epochs keep the ~50 checks per estimator fast; the
# checks test the API, not what the network learns.
_CHEAP = {"hidden_layer_sizes": (4,), "max_iter": 3, "batch_size": 16}


@parametrize_with_checks(
    [
        AutoencoderTransformer(**_CHEAP),
        AutoencoderOutlierDetector(**_CHEAP),
        AutoencoderOutlierDetector(contamination="auto", **_CHEAP),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
