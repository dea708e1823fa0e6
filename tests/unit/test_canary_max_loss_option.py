"""--max-loss: a count, a fraction or a percentage."""

from __future__ import annotations

import pytest

from kafkaredis_cli.canary.max_loss_option import LossLimit
from kafkaredis_cli.errors import UsageError


@pytest.mark.parametrize(
    ("text", "count", "fraction", "shown"),
    [
        ("0", 0, None, "0"),
        ("3", 3, None, "3"),
        ("0.05", None, 0.05, "5%"),
        (".5", None, 0.5, "50%"),
        ("5%", None, 0.05, "5%"),
        ("12.5%", None, 0.125, "12.5%"),
        ("1.0", None, 1.0, "100%"),
    ],
)
def test_parse(text, count, fraction, shown):
    limit = LossLimit.parse(text)
    assert limit.count == count
    if fraction is None:
        assert limit.fraction is None
    else:
        assert limit.fraction == pytest.approx(fraction)
    assert str(limit) == shown


@pytest.mark.parametrize("text", ["", "-1", "abc", "5 %x", "101%", "1.5", "3/4"])
def test_bad_values_are_usage_errors(text):
    with pytest.raises(UsageError, match="--max-loss"):
        LossLimit.parse(text)


def test_count_limit():
    limit = LossLimit.parse("2")
    assert limit.allows(2, 10)
    assert not limit.allows(3, 10)


def test_fraction_limit():
    limit = LossLimit.parse("10%")
    assert limit.allows(1, 10)
    assert not limit.allows(2, 10)
    assert limit.allows(0, 0)


def test_default_allows_no_loss():
    assert LossLimit().allows(0, 5)
    assert not LossLimit().allows(1, 5)
