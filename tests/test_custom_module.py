"""Custom torch modules: built from the estimator's parameters, checked
before training, and usable wherever the built-in network is."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from torch import nn

from skae import AutoencoderOutlierDetector, AutoencoderTransformer

from .conftest import TINY


class _ConvAutoencoder(nn.Module):
    """A small convolutional autoencoder for 8x8 images."""

    def __init__(self, n_components=2, channels=4):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),
            nn.Conv2d(1, channels, 3, stride=2, padding=1),  # 4x4
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(channels * 16, n_components),
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_components, channels * 16),
            nn.ReLU(),
            nn.Unflatten(1, (channels, 4, 4)),
            nn.ConvTranspose2d(channels, 1, 4, stride=2, padding=1),  # 8x8
            nn.Sigmoid(),
            nn.Flatten(),
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


def test_custom_module_in_a_pipeline_and_a_grid_search(digits):
    X = digits[0][:300] * 16  # raw pixel counts, scaled in the pipeline
    pipe = make_pipeline(
        MinMaxScaler(clip=True),  # bce needs [0, 1] on the held-out fold too
        AutoencoderTransformer(3, module=_ConvAutoencoder, loss="bce", **TINY),
    )
    grid = {"autoencodertransformer__module__channels": [1, 8]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X)
    # The searched argument reaches the module: the candidates are different
    # networks, and the refitted one has the best candidate's channels.
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] != scores[1]
    best = search.best_params_["autoencodertransformer__module__channels"]
    model = search.best_estimator_
    assert model[-1].net_.module_.encoder[1].out_channels == best
    assert model.transform(X).shape == (300, 3)  # n_components passed in
    names = model[-1].get_feature_names_out()
    assert list(names) == [f"autoencodertransformer{i}" for i in range(3)]


def test_custom_module_as_outlier_detector(digits):
    X = digits[0][:300]
    detector = AutoencoderOutlierDetector(
        module=_ConvAutoencoder, module_params={"channels": 2}, **TINY
    ).fit(X)
    assert set(np.unique(detector.predict(X))) == {-1, 1}
    assert detector.score_samples(X).shape == (300,)


class _FixedWidth(_ConvAutoencoder):
    """A module that chooses its own code width: no n_components argument."""

    def __init__(self, channels=2):
        super().__init__(n_components=5, channels=channels)


def test_code_width_is_read_from_the_module(digits):
    X = digits[0][:100]
    model = AutoencoderTransformer(2, module=_FixedWidth, **TINY).fit(X)
    assert model.n_components_ == 5
    assert len(model.get_feature_names_out()) == 5
    assert model.inverse_transform(model.transform(X)).shape == X.shape


class _Flat3D(_ConvAutoencoder):
    def encode(self, x):
        return self.encoder[:2](x)  # the feature maps, not flattened


class _WrongWidth(_ConvAutoencoder):
    def decode(self, z):
        return self.decoder(z)[:, :10]


@pytest.mark.parametrize(
    "module, message",
    [
        (_Flat3D, r"encode must return codes of shape"),
        (_WrongWidth, "decode must return reconstructions"),
    ],
)
def test_modules_that_break_the_training_loop_fail_at_fit(digits, module, message):
    with pytest.raises(ValueError, match=message):
        AutoencoderTransformer(module=module, **TINY).fit(digits[0][:20])
