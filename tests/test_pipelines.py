"""Both estimators inside scikit-learn: pipelines, cross-validation and
parallel grid search."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderOutlierDetector])
def test_pipeline_and_cross_val_score(cls, digits):
    X = digits[0][:120] * 16
    pipe = make_pipeline(MinMaxScaler(), cls(**TINY))
    if cls is AutoencoderTransformer:
        assert pipe.fit_transform(X).shape == (120, 2)
        scores = cross_val_score(pipe, X, cv=3)
        assert scores.shape == (3,) and np.all(scores < 0)
    else:
        assert set(pipe.fit_predict(X)) <= {-1, 1}


def test_grid_search_in_parallel(digits):
    # Scored by AutoencoderTransformer.score (minus reconstruction error),
    # across two worker processes: estimators must pickle and carry no
    # global state. A 1-unit code cannot reconstruct the digits as well as
    # an 8-unit one, whatever the other parameters.
    X = digits[0][:150]
    search = GridSearchCV(
        AutoencoderTransformer(max_iter=15, tol=0, random_state=0),
        {
            "n_components": [1, 8],
            "hidden_layer_sizes": [(16,), (32, 16)],
            "learning_rate_init": [1e-3, 1e-2],
        },
        cv=2,
        n_jobs=2,
    ).fit(X)
    assert search.best_params_["n_components"] == 8
    assert search.best_estimator_.transform(X).shape == (150, 8)
