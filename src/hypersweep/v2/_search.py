"""The classes of :mod:`hypersweep.v2.sweep` (expressions, policies, sampling algorithms); the jobs
in :mod:`hypersweep.v2._jobs` use them, and ``hypersweep.v2.sweep`` shows both under v2's names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypersweep import space as _space
from hypersweep._space_rules import _check_q, _normal_args, _uniform_args
from hypersweep._validation import check_int, check_number, invalid
from hypersweep.errors import InvalidConfigError

__all__ = [
    "BanditPolicy",
    "BayesianSamplingAlgorithm",
    "Choice",
    "GridSamplingAlgorithm",
    "LogNormal",
    "LogUniform",
    "MedianStoppingPolicy",
    "Normal",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "RandomSamplingAlgorithm",
    "Randint",
    "TruncationSelectionPolicy",
    "Uniform",
]


# -- parameter expressions -------------------------------------------------------------------------


class Choice(_space.Choice):
    """``Choice(values=[...])``: one of the values; values that are dicts make a nested (conditional) choice."""

    def __new__(cls, values: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        if (
            isinstance(values, (str, bytes))
            or not isinstance(values, (Sequence, range))
            or not len(values)
        ):
            raise invalid("values", "Choice", "a non-empty list of values", values)
        built = _space.choice(list(values))
        if type(built) is not _space.Choice:  # a nested choice: hypersweep's class serves
            return built
        return super().__new__(cls)

    def __init__(self, values: Sequence[Any] | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise invalid(
                sorted(kwargs)[0],
                "Choice",
                "not given (Choice takes values only)",
                kwargs[sorted(kwargs)[0]],
            )
        super().__init__(list(values or []))


class Uniform(_space.Uniform):
    """``Uniform(min_value, max_value)``."""

    def __init__(self, min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__(*_uniform_args("Uniform", min_value, max_value, strict=True))


class LogUniform(_space.LogUniform):
    """``LogUniform(min_value, max_value)``: ``exp(uniform(min_value, max_value))``."""

    def __init__(self, min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__(*_uniform_args("LogUniform", min_value, max_value, strict=False))


class QUniform(_space.QUniform):
    """``QUniform(min_value, max_value, q)``."""

    def __init__(
        self, min_value: float | None = None, max_value: float | None = None, q: float | None = None
    ) -> None:
        low, high = _uniform_args("QUniform", min_value, max_value, strict=True)
        _check_q(q, "QUniform")
        super().__init__(low, high, q)


class QLogUniform(_space.QLogUniform):
    """``QLogUniform(min_value, max_value, q)``."""

    def __init__(
        self, min_value: float | None = None, max_value: float | None = None, q: float | None = None
    ) -> None:
        low, high = _uniform_args("QLogUniform", min_value, max_value, strict=False)
        _check_q(q, "QLogUniform")
        super().__init__(low, high, q)


class Normal(_space.Normal):
    """``Normal(mu, sigma)``."""

    def __init__(self, mu: float = 0.0, sigma: float = 1.0) -> None:
        super().__init__(*_normal_args("Normal", mu, sigma))


class LogNormal(_space.LogNormal):
    """``LogNormal(mu, sigma)``: ``exp(normal(mu, sigma))``."""

    def __init__(self, mu: float = 0.0, sigma: float = 1.0) -> None:
        super().__init__(*_normal_args("LogNormal", mu, sigma))


class QNormal(_space.QNormal):
    """``QNormal(mu, sigma, q)``."""

    def __init__(self, mu: float = 0.0, sigma: float = 1.0, q: float | None = None) -> None:
        mu, sigma = _normal_args("QNormal", mu, sigma)
        _check_q(q, "QNormal")
        super().__init__(mu, sigma, q)


class QLogNormal(_space.QLogNormal):
    """``QLogNormal(mu, sigma, q)``."""

    def __init__(self, mu: float = 0.0, sigma: float = 1.0, q: float | None = None) -> None:
        mu, sigma = _normal_args("QLogNormal", mu, sigma)
        _check_q(q, "QLogNormal")
        super().__init__(mu, sigma, q)


class Randint(_space.Randint):
    """``Randint(upper)``: an integer in ``[0, upper)``."""

    def __init__(self, upper: int | None = None) -> None:
        super().__init__(check_int(upper, "upper", "Randint", low=1))


# -- early termination -------------------------------------------------------------------------------


class _Policy:
    """A v2 early-termination policy: its YAML section, checked by hypersweep's policy of that type."""

    type: str

    def _to_data(self) -> dict[str, Any]:
        raise NotImplementedError

    def _check(self) -> None:
        from hypersweep.policy import policy_from_data

        try:
            policy_from_data(self._to_data())
        except InvalidConfigError as exc:
            raise InvalidConfigError(
                str(exc).replace("early_termination", type(self).__name__)
            ) from None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._to_data().items() if k != "type")
        return f"{type(self).__name__}({args})"


def _interval(value: Any, param: str, owner: str) -> int:
    """v2's intervals: 0 (its default) means every interval, as 1 does."""
    return max(1, check_int(value, param, owner, low=0))


class BanditPolicy(_Policy):
    """``BanditPolicy(slack_factor=..., slack_amount=..., evaluation_interval=..., delay_evaluation=...)``.

    As in v2, 0 means "not set" for the slack arguments (exactly one must be set) and an
    ``evaluation_interval`` of 0 means every interval.
    """

    type = "bandit"

    def __init__(
        self,
        *,
        delay_evaluation: int = 0,
        evaluation_interval: int = 0,
        slack_amount: float = 0,
        slack_factor: float = 0,
    ) -> None:
        owner = "BanditPolicy"
        self.delay_evaluation = check_int(delay_evaluation, "delay_evaluation", owner, low=0)
        self.evaluation_interval = _interval(evaluation_interval, "evaluation_interval", owner)
        self.slack_amount = check_number(slack_amount, "slack_amount", owner)
        self.slack_factor = check_number(slack_factor, "slack_factor", owner)
        if (self.slack_amount == 0) == (self.slack_factor == 0):
            raise invalid(
                "slack_factor",
                owner,
                "set (non-zero) when slack_amount is not, and only then",
                {"slack_factor": slack_factor, "slack_amount": slack_amount},
            )
        self._check()

    def _to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation,
        }
        if self.slack_factor:
            data["slack_factor"] = self.slack_factor
        else:
            data["slack_amount"] = self.slack_amount
        return data


class MedianStoppingPolicy(_Policy):
    """``MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=0)``."""

    type = "median_stopping"

    def __init__(self, *, delay_evaluation: int = 0, evaluation_interval: int = 1) -> None:
        owner = "MedianStoppingPolicy"
        self.delay_evaluation = check_int(delay_evaluation, "delay_evaluation", owner, low=0)
        self.evaluation_interval = _interval(evaluation_interval, "evaluation_interval", owner)
        self._check()

    def _to_data(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation,
        }


class TruncationSelectionPolicy(_Policy):
    """``TruncationSelectionPolicy(truncation_percentage=..., evaluation_interval=..., delay_evaluation=...)``."""

    type = "truncation_selection"

    def __init__(
        self,
        *,
        delay_evaluation: int = 0,
        evaluation_interval: int = 0,
        truncation_percentage: int = 0,
        exclude_finished_jobs: bool = False,
    ) -> None:
        owner = "TruncationSelectionPolicy"
        self.delay_evaluation = check_int(delay_evaluation, "delay_evaluation", owner, low=0)
        self.evaluation_interval = _interval(evaluation_interval, "evaluation_interval", owner)
        self.truncation_percentage = check_int(
            truncation_percentage, "truncation_percentage", owner, low=1, high=99
        )
        if not isinstance(exclude_finished_jobs, bool):
            raise invalid("exclude_finished_jobs", owner, "True or False", exclude_finished_jobs)
        self.exclude_finished_jobs = exclude_finished_jobs
        self._check()

    def _to_data(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "evaluation_interval": self.evaluation_interval,
            "delay_evaluation": self.delay_evaluation,
            "truncation_percentage": self.truncation_percentage,
            "exclude_finished_jobs": self.exclude_finished_jobs,
        }


# -- sampling algorithms -----------------------------------------------------------------------------


class _Sampling:
    type: str

    def _to_data(self) -> dict[str, Any]:
        return {"type": self.type}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._to_data()!r})"


class RandomSamplingAlgorithm(_Sampling):
    """``RandomSamplingAlgorithm(seed=None, rule="random"|"sobol", logbase=None)``."""

    type = "random"

    def __init__(
        self,
        *,
        rule: str | None = None,
        seed: int | None = None,
        logbase: float | str | None = None,
    ) -> None:
        owner = "RandomSamplingAlgorithm"
        if rule is not None and (
            not isinstance(rule, str) or rule.lower() not in ("random", "sobol")
        ):
            raise invalid("rule", owner, "'random' or 'sobol'", rule)
        self.rule = rule.lower() if rule else None
        self.seed = None if seed is None else check_int(seed, "seed", owner, low=0)
        if logbase is not None and logbase != "e":
            if check_number(logbase, "logbase", owner) <= 0:
                raise invalid("logbase", owner, "a positive number or 'e'", logbase)
        self.logbase = logbase

    def _to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for key in ("seed", "rule", "logbase"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


class GridSamplingAlgorithm(_Sampling):
    """``GridSamplingAlgorithm()``: every combination of the choices."""

    type = "grid"


class BayesianSamplingAlgorithm(_Sampling):
    """``BayesianSamplingAlgorithm()``."""

    type = "bayesian"
