"""The public API's docstrings follow numpydoc, as scikit-learn's do."""

import inspect

import pytest

import skae

numpydoc_validate = pytest.importorskip("numpydoc.validate")

#: Checks waived for methods, as scikit-learn waives them: an extended
#: summary, a See Also section and an example for every method (the class
#: docstrings carry those), and the name in ``self : object``.
_WAIVED_FOR_METHODS = {"ES01", "SA01", "EX01", "RT02"}
#: A named single return value (``self : object``) is scikit-learn's style.
_WAIVED = {"RT02"}


def _public_api():
    for name in skae.__all__:
        obj = getattr(skae, name)
        if not inspect.isclass(obj):
            continue
        yield f"skae.{name}", _WAIVED
        for member_name, member in inspect.getmembers(obj):
            defined_here = (getattr(member, "__module__", None) or "").startswith(
                "skae"
            )
            if member_name.startswith("_") or not callable(member) or not defined_here:
                continue
            yield f"skae.{name}.{member_name}", _WAIVED_FOR_METHODS


@pytest.mark.parametrize("name, waived", list(_public_api()), ids=lambda v: str(v))
def test_docstring_follows_numpydoc(name, waived):
    errors = [
        f"{code}: {message}"
        for code, message in numpydoc_validate.validate(name)["errors"]
        if code not in waived
    ]
    assert not errors, "\n".join(errors)


def test_every_public_class_is_checked():
    checked = {name for name, _ in _public_api()}
    assert {"skae.AutoencoderTransformer", "skae.AutoencoderOutlierDetector"} <= checked
    assert "skae.AutoencoderOutlierDetector.predict" in checked
