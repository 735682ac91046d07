"""Pure item selection for adaptive practice."""

from __future__ import annotations

import numpy as np
import pytest

from psychometrics.adaptive import SE_TARGET, domain_weights, next_item, should_stop


def test_with_k_1_the_most_informative_item_is_the_one_nearest_the_ability():
    b = [-2.0, -0.4, 0.1, 0.9, 2.5]
    rng = np.random.default_rng(0)
    assert next_item(0.0, b, [1] * 5, k=1, rng=rng) == 2
    assert next_item(0.0, b, [1] * 5, administered=[2], k=1, rng=rng) == 1
    assert next_item(2.0, b, [1] * 5, k=1, rng=rng) == 4


def test_randomesque_draws_only_among_the_top_k():
    b = np.linspace(-3, 3, 25)
    picks = {next_item(0.0, b, [1] * 25, k=3, rng=np.random.default_rng(s)) for s in range(200)}
    nearest = set(np.argsort(np.abs(b))[:3].tolist())
    assert picks == nearest


def test_weaker_domains_weigh_more():
    weights = domain_weights({1: 0.9, 2: 0.3}, [1, 2, 3])
    assert weights == {1: pytest.approx(1.1), 2: pytest.approx(1.7), 3: 1.5}
    # Two equally informative items: the weaker domain's wins.
    rng = np.random.default_rng(1)
    assert next_item(0.0, [0.5, -0.5], [1, 2], weights=weights, k=1, rng=rng) == 1


def test_nothing_left_and_the_stop_rule():
    assert next_item(0.0, [0.0], [1], administered=[0], rng=np.random.default_rng(0)) is None
    assert should_stop(SE_TARGET, 10, 50) and should_stop(0.5, 50, 50)
    assert not should_stop(0.31, 49, 50)
