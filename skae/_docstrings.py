"""Docstring text shared by the estimators: one numpydoc entry per name."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

__all__ = ["fill_doc"]

#: Shared parameters, with the transformer's defaults, in signature order.
PARAMETERS = {
    "n_components": """n_components : int, default=2
        Size of the code (the bottleneck), as in
        :class:`~sklearn.decomposition.PCA`.""",
    "hidden_layer_sizes": """hidden_layer_sizes : tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers; the decoder mirrors them. The
        network is ``n_features -> *hidden_layer_sizes -> n_components`` and
        back. An empty tuple gives a single linear layer each way.""",
    "activation": """activation : {"relu", "tanh", "sigmoid", "elu", "gelu", \
"leaky_relu", "selu", "identity"}, default="relu"
        Activation after every hidden layer. The code layer stays linear.""",
    "output_activation": """output_activation : {"auto", "relu", "tanh", \
"sigmoid", "elu", "gelu", "leaky_relu", "selu", "identity"}, default="auto"
        Activation of the reconstruction. ``"auto"`` is ``"sigmoid"`` with
        ``loss="bce"`` and ``"identity"`` otherwise.""",
    "dropout": """dropout : float in [0, 1), default=0.0
        Probability of zeroing each hidden unit (not the code) during
        training, to regularise wide networks. Inference never drops.""",
    "batch_norm": """batch_norm : bool, default=False
        Batch-normalise every hidden layer before its activation, which can
        speed up the training of deep networks. Needs at least 2 training
        samples; at inference the statistics of the training data are used.""",
    "loss": """loss : {"mse", "bce", "l1", "huber"}, default="mse"
        Reconstruction loss, averaged over features. It is both the training
        objective and the per-sample error behind ``score_samples``.
        ``"bce"`` (binary cross-entropy) is the loss for data in [0, 1],
        such as pixel intensities scaled by
        :class:`~sklearn.preprocessing.MinMaxScaler`: it reads each feature
        as the probability of a pixel being on, its gradient does not fade
        near 0 and 1 as that of ``"mse"`` through a sigmoid does, and with
        ``variational=True`` it makes ``score_samples`` the ELBO of a
        Bernoulli decoder. It raises for data outside [0, 1]. ``"l1"`` and
        ``"huber"`` are less sensitive to a few large errors than ``"mse"``.""",
    "sparsity": """sparsity : float in [0, 1), default=0.0
        The sparsity parameter of a *sparse autoencoder*: the target share
        of active code units (Ng's rho, whose textbook value is 0.05).
        ``0`` gives a dense code. With ``sparsity > 0`` each code keeps its
        ``ceil(sparsity * n_components)`` entries of largest magnitude and
        the others are exactly 0 (a k-sparse autoencoder, Makhzani and Frey,
        2014), and the decoder's weight columns are kept at unit norm, as
        the dictionary of sparse coding is, so that it cannot undo the
        sparsity by scaling. The number of active units falls from all of
        them to the target over the first half of ``max_iter`` (training
        runs at least that long), which keeps most units in use. Sparse
        codes pay off with a wide, even overcomplete, code
        (``n_components`` larger than ``n_features``). Only for the built-in
        network, and not with ``variational=True``, whose KL term already
        regularises the codes.""",
    "noise": """noise : {"gaussian", "masking"} or None, default=None
        Corrupt the training inputs but not the targets, which makes a
        *denoising autoencoder*: it learns to map corrupted samples back to
        clean ones, and so features that survive corruption. ``"gaussian"``
        adds noise of standard deviation ``noise_level`` to every entry;
        ``"masking"`` sets each entry to 0 with probability
        ``noise_level``. The noise is drawn anew for every batch, on the
        training device, and seeded by ``random_state``. ``transform``,
        ``inverse_transform`` and the scores never add noise.""",
    "noise_level": """noise_level : float, default=0.1
        Standard deviation of the Gaussian noise, in the units of the
        (scaled) data, or the probability of masking an entry, below 1.
        Ignored when ``noise=None``.""",
    "variational": """variational : bool, default=False
        Train a *variational autoencoder* (VAE): the encoder gives the mean
        and log-variance of a Gaussian posterior ``q(z | x)``, the decoder
        reconstructs from a draw of it (the reparameterisation trick), and
        the loss adds ``beta`` times the KL divergence of ``q(z | x)`` from
        the standard normal prior. ``transform`` returns the posterior
        mean, ``score_samples`` minus the negative ELBO, and ``sample``
        draws new data.""",
    "beta": """beta : float, default=1.0
        Weight of the KL term when ``variational=True``; ``beta > 1`` (a
        beta-VAE) gives codes closer to the prior at the cost of blurrier
        reconstructions. The KL, summed over the latent dimensions, is
        divided by ``n_features``, as the reconstruction loss is averaged
        over features: with ``beta=1`` the training loss is the negative
        ELBO per feature, and its scale does not change with the width of
        the data. Ignored when ``variational=False``.""",
    "module": """module : torch.nn.Module subclass or None, default=None
        A network class of your own, used instead of the fully connected
        one (for example a convolutional autoencoder for images). It must
        define ``encode(x)``, returning codes of shape
        ``(n_samples, n_codes)``, and ``decode(z)``, returning
        reconstructions of ``x``'s shape ``(n_samples, n_features)``; with
        ``variational=True`` also ``encode_distribution(x)``, returning the
        posterior mean and log-variance, with ``encode`` returning the mean.
        It is built at ``fit`` with the keyword arguments ``n_features``
        and ``n_components`` where its constructor accepts them, and with
        ``module_params``. ``hidden_layer_sizes``, ``activation`` and
        ``output_activation`` do not apply to it (with ``loss="bce"`` its
        output must lie in [0, 1]); ``dropout`` and ``batch_norm`` must keep
        their defaults. Its further arguments go in ``module_params``, or,
        as skorch spells them, in parameters ``module__<name>``, which the
        constructor and ``set_params`` accept and ``get_params`` lists, so
        ``GridSearchCV`` can search ``{"module__channels": [8, 16]}``; a
        ``module__<name>`` takes precedence over the same entry of
        ``module_params``.""",
    "module_params": """module_params : dict or None, default=None
        Further keyword arguments of ``module``'s constructor, as
        ``kernel_params`` are for the kernel of
        :class:`~sklearn.decomposition.KernelPCA`.""",
    "optimizer": """optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        Torch optimizer. ``"sgd"`` uses Nesterov momentum 0.9.""",
    "learning_rate_init": """learning_rate_init : float, default=1e-3
        Learning rate (skorch's ``lr``).""",
    "alpha": """alpha : float, default=0.0
        L2 penalty, passed to the optimizer as ``weight_decay``.""",
    "batch_size": """batch_size : int, default=256
        Rows per training mini-batch. Inference uses larger batches,
        chosen for throughput.""",
    "max_iter": """max_iter : int, default=200
        Maximum number of epochs (skorch's ``max_epochs``).""",
    "tol": """tol : float, default=1e-4
        Smallest decrease of the monitored loss that counts as an
        improvement.""",
    "n_iter_no_change": """n_iter_no_change : int, default=10
        Training stops when the monitored loss has not improved by ``tol``
        for this many epochs in a row. The monitored loss is the training
        loss, or the validation loss when ``early_stopping=True``.""",
    "early_stopping": """early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, monitor the
        loss on it, and restore the weights of the best epoch at the end.""",
    "validation_fraction": """validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.""",
    "device": """device : str, default="auto"
        Torch device to train and infer on: ``"auto"`` (CUDA when available,
        else the CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``. A model
        trained on a GPU unpickles on a machine without one, on the CPU.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
        Pass an int for reproducible results on the CPU. Torch's and
        NumPy's global random states are left unchanged.""",
    "verbose": """verbose : int, default=0
        ``0`` prints nothing; ``1`` or more prints one line per epoch with
        the training loss, the validation loss and the epoch's duration.""",
    "warm_start": """warm_start : bool, default=False
        When True, ``fit`` continues training the network of the previous
        call instead of starting from new weights. The continued training
        uses the current parameters, as ``partial_fit`` does: the loss and
        its penalties, the optimizer's settings, the batch size, the
        stopping rule, the noise and the device may all change between
        calls (a new ``optimizer`` starts without the previous one's
        moment estimates). The parameters that define the network's
        layers (``n_components``, ``hidden_layer_sizes``, ``activation``,
        ``output_activation``, ``dropout``, ``batch_norm``,
        ``variational``, ``module`` and its arguments) cannot change: a
        warm start that changes one raises ``ValueError``.""",
}

#: The last entry of both signatures.
MODULE_KWARGS = {
    "**module__kwargs": """**module__kwargs : dict
        Arguments ``module__<name>=value`` of a custom ``module``'s
        constructor, as skorch spells them; see ``module``.""",
}

#: The detector's entries where its default differs, with the reason. The
#: evidence is in benchmarks/bench_adbench.py and docs/outlier_benchmark.rst.
DETECTOR_PARAMETERS = {
    "n_components": """n_components : int or "auto", default="auto"
        Size of each network's code (the bottleneck). ``"auto"`` is
        ``round(sqrt(n_features))``, at least 1 (the resolved value is
        ``n_components_``): small enough that the network cannot copy its
        input, large enough to follow data with many correlated features.""",
    "hidden_layer_sizes": """hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the encoder's hidden layers; the decoder mirrors them.
        One layer of 64 units: a deeper or wider network fits the few
        training outliers as well as the inliers.""",
    "activation": """activation : {"relu", "tanh", "sigmoid", "elu", "gelu", \
"leaky_relu", "selu", "identity"}, default="tanh"
        Activation after every hidden layer. ``"tanh"`` saturates, so the
        network does not extrapolate linearly to far-away samples and
        reconstruct them well.""",
    "batch_size": """batch_size : int, default=32
        Rows per training mini-batch of each network.""",
    "max_iter": """max_iter : int, default=25
        Epochs over each network's sample of rows (skorch's
        ``max_epochs``): with the default 256-row samples and batches of 32,
        200 optimizer steps per network however many rows there are (fewer
        on data of fewer than 256 rows). The short budget is deliberate:
        trained to convergence, a network learns to reconstruct the
        outliers it should flag. Reaching ``max_iter`` therefore raises no
        ``ConvergenceWarning``.""",
}

#: Parameters only the detector has.
DETECTOR_ONLY_PARAMETERS = {
    "contamination": """contamination : "auto" or float, default=0.1
        Expected share of outliers in the training data; sets the
        threshold ``offset_``. A float in (0, 0.5] flags that share of the
        training samples, the most abnormal. ``"auto"`` flags the training
        scores above Tukey's upper fence, ``Q3 + 1.5 * IQR`` of the training
        outlier scores, whatever their share. It does not change
        ``score_samples``; for a threshold set by a false-positive rate
        instead of a guessed share, use :meth:`pvalues`.""",
    "n_estimators": """n_estimators : int, default=10
        Number of autoencoders in the ensemble. Each trains on its own
        random sample of the rows, from its own initial weights; the outlier
        score is their average. Averaging makes the scores stable across
        seeds and much less sensitive to the training budget than one
        network's.""",
    "max_samples": """max_samples : "auto", int or float, default="auto"
        Rows each network trains on, drawn without replacement at every
        ``fit`` or ``partial_fit`` call: ``"auto"`` is ``min(256,
        n_samples)``, IsolationForest's sample size; an int is capped at
        ``n_samples``; a float in (0, 1] is that share of the rows. Small
        samples keep the training cost independent of the number of rows
        and leave the networks no time to learn the rare outliers.""",
    "trim_fraction": """trim_fraction : float in [0, 0.5], default=0.25
        Share of each training mini-batch, the samples with the largest
        reconstruction errors, left out of the loss (a trimmed loss, as in
        least trimmed squares). The outliers in the training data are those
        samples, so they barely shape the networks and stay badly
        reconstructed. The validation loss of ``early_stopping`` is trimmed
        alike. ``0`` trains on every sample.""",
}

#: Fitted attributes only the detector has.
DETECTOR_ATTRIBUTES = {
    "offset_": """offset_ : float
        Threshold on ``score_samples``: ``decision_function`` is
        ``score_samples - offset_`` and is negative for outliers.""",
    "decision_scores_": """decision_scores_ : ndarray of shape (n_samples,)
        Outlier scores of the rows of the last ``fit`` (or of the last
        ``partial_fit`` call) with PyOD's sign convention: minus
        ``score_samples``, higher is more abnormal.""",
    "threshold_": """threshold_ : float
        ``-offset_``: the threshold on ``decision_scores_`` (PyOD's name).""",
    "labels_": """labels_ : ndarray of shape (n_samples,)
        Labels of the rows of ``decision_scores_`` with PyOD's convention:
        1 for outliers, 0 for inliers.""",
    "error_scale_": """error_scale_ : ndarray of shape (n_estimators, \
`n_features_in_`)
        Each network's typical elementwise loss of each feature: its median
        over the training rows divided by the median of the chi-squared
        distribution with one degree of freedom (0.455).""",
    "code_mean_": """code_mean_ : ndarray of shape (n_estimators, `n_components_`)
        Each network's robust centre of the training codes.""",
    "code_precision_": """code_precision_ : ndarray of shape (n_estimators, \
`n_components_`, `n_components_`)
        Each network's robust inverse covariance of the training codes.""",
    "calibration_scores_": """calibration_scores_ : ndarray of shape \
(n_held_out,)
        Sorted outlier scores of the rows held out of training, which
        calibrate :meth:`pvalues`.""",
}

#: Fitted attributes both estimators have.
ATTRIBUTES = {
    "net_": """net_ : skorch.NeuralNet
        The trained skorch net. ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch training record.""",
    "n_components_": """n_components_ : int
        Width of the codes: ``n_components`` (with ``"auto"`` resolved, for
        the detector), or what the ``encode`` method of a custom ``module``
        returns.""",
    "n_iter_": """n_iter_ : int
        Number of epochs trained, over all ``fit`` and ``partial_fit``
        calls since the network was created.""",
    "loss_curve_": """loss_curve_ : list of float
        Training loss at each epoch.""",
    "validation_scores_": """validation_scores_ : list of float or None
        Minus the validation loss at each epoch (higher is better, as
        ``score``) when ``early_stopping=True``, else None.""",
    "n_features_in_": """n_features_in_ : int
        Number of features seen during :term:`fit`.""",
    "feature_names_in_": """feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.""",
}

FAMILY = """``sparsity``, ``noise`` and ``variational`` turn the plain
    autoencoder into the other members of the textbook family: sparse,
    denoising and variational autoencoders; ``module`` takes a network of
    your own, such as a convolutional one. The user guide's "Which
    autoencoder?" page compares them."""


def _entries(*tables):
    """Join the entries of the tables in order; a later table's entry
    replaces an earlier one's in place."""
    merged = {}
    for table in tables:
        merged.update(table)
    return "\n\n    ".join(merged.values())


def fill_doc(kind):
    """Class decorator filling a docstring's ``%(...)s`` fields for ``kind``.

    The fields are ``family``, ``parameters`` and ``attributes``: the shared
    entries, with the detector's own defaults and extra entries for
    ``kind="detector"``.
    """
    if kind == "detector":
        parameters = _entries(
            PARAMETERS, DETECTOR_PARAMETERS, DETECTOR_ONLY_PARAMETERS, MODULE_KWARGS
        )
        attributes = _entries(DETECTOR_ATTRIBUTES, ATTRIBUTES)
    else:
        parameters = _entries(PARAMETERS, MODULE_KWARGS)
        attributes = _entries(ATTRIBUTES)

    def decorate(cls):
        cls.__doc__ = cls.__doc__ % {
            "family": FAMILY,
            "parameters": parameters,
            "attributes": attributes,
        }
        return cls

    return decorate
