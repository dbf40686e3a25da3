"""Asynchronous successive halving (ASHA), and when to pick which policy.

Which policy to pick. Figures are from the shared replay benchmark (4 tasks, 100 trials of 50
epochs, 20 streams; ``benchmarks/results/early_stop.md``): compute used, and the loss of the best
accuracy seen against no early termination, in percentage points (pp).

* ``NoTerminationPolicy``: few runs, or runs too cheap to be worth judging.
* ``MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5)``: the safe default. It uses
  about 42% of the compute and lost nothing on the benchmark (0.005 pp on held-out streams).
* ``BanditPolicy(slack_factor=0.1 or 0.2, delay_evaluation=5)``: when you know how far behind the
  best a run may be and still be worth finishing. It uses 41-48% of the compute, and less on tasks
  where most runs are far from the best, but it can lose a late bloomer (0.035 pp on average). The
  slack factor is a ratio: use ``slack_amount`` for metrics that can be negative.
* ``TruncationSelectionPolicy(truncation_percentage=20, delay_evaluation=5)``: a fixed share of
  runs per evaluation. It is conservative (about 60% of the compute) and lost nothing.
* ``AshaPolicy``: the largest savings, for many long runs. Runs are judged only at rungs
  (``min_interval * eta**i``) and only the top 1/eta of the runs that reached a rung go on.
  ``AshaPolicy(reduction_factor=3, min_interval=1)`` uses about 11% of the compute and loses about
  0.18 pp. A grace period trades some savings for safety: ``min_interval=3`` uses 21% and loses
  0.02-0.05 pp, less than Optuna's HyperbandPruner (25% and 0.11 pp).
* ``RobustAshaPolicy()`` (:mod:`hypersweep.policy.robust_asha`): these rungs, but a run stops
  only when it is behind by more than its own epoch-to-epoch noise. It was also checked on tasks
  that no setting was tuned on. It uses about 18% of the compute on the public and on the held-out
  tasks, with 0.05-0.07 pp of regret. ``RobustAshaPolicy(3, 1, noise_factor=0.25)`` uses about
  13%.

ASHA is not part of HyperDrive: it is hypersweep's addition (Li et al., "A System for Massively
Parallel Hyperparameter Tuning", 2020), in its stopping form (a run that is not promoted at a rung
stops there).
"""

from __future__ import annotations

from hypersweep._validation import invalid
from hypersweep.goal import PrimaryMetricGoal
from hypersweep.policy._common import Setting, fmt
from hypersweep.policy._index import BEST, VALUE, HistoryIndex, count_better
from hypersweep.policy._rungs import RungSchedule
from hypersweep.policy.base import CONTINUE, Decision, EarlyTerminationPolicy, Histories

_OWNER = "AshaPolicy"
_COMPARE = ("value", "best")


class AshaPolicy(RungSchedule, EarlyTerminationPolicy):
    """Asynchronous successive halving: at each rung only the top 1/eta of the runs go on.

    Rungs lie at intervals ``min_interval * reduction_factor**i`` (i = 0, 1, ...) below
    ``max_interval``. When a run reaches a rung, it is ranked among every run that has reached that
    rung so far (running, finished, canceled, warm-start priors); it continues only if fewer than
    ``max(1, n // reduction_factor)`` of those n runs are strictly better, and at least ``min_runs``
    runs have reached the rung (until then nobody stops there). The decision is a pure function of
    the histories: no promotion state is kept.

    With ``brackets=b > 1`` (asynchronous Hyperband), each run is assigned a bracket s in
    ``[0, b)`` from a hash of its id; bracket s starts its rungs at ``min_interval *
    reduction_factor**s`` and ranks runs only against runs of the same bracket.

    Args:
        reduction_factor: eta, an integer >= 2; 1/eta of the runs survive each rung.
        min_interval: the first rung (grace period), an integer >= 1.
        max_interval: the length of a full run if known. Optional: it only removes rungs at or
            beyond it (a run that is about to finish is not worth stopping). ``None`` keeps the
            rung ladder unbounded, which is the same for every run shorter than the next rung.
        brackets: the number of Hyperband brackets, an integer >= 1.
        compare: ``"value"`` ranks runs by their value at the rung (classic ASHA); ``"best"`` by
            their best value up to the rung (kinder to noisy metrics).
        min_runs: stop nobody at a rung until this many runs have reached it.

    Raises:
        InvalidConfigError: an argument is out of range or of the wrong type.

    Example:
        >>> from hypersweep.goal import PrimaryMetricGoal
        >>> from hypersweep.policy import AshaPolicy, RunHistory
        >>> policy = AshaPolicy(reduction_factor=2, min_interval=1)
        >>> runs = {"a": RunHistory("a", [0.9]), "b": RunHistory("b", [0.4])}
        >>> policy.evaluate("b", 1, runs, PrimaryMetricGoal.MAXIMIZE).stop
        True
    """

    policy_name = "Asha"
    yaml_type = "asha"

    def __init__(
        self,
        reduction_factor: int = 3,
        min_interval: int = 1,
        max_interval: int | None = None,
        brackets: int = 1,
        *,
        compare: str = "value",
        min_runs: int = 1,
    ) -> None:
        self._init_rungs(_OWNER, reduction_factor, min_interval, max_interval, brackets, min_runs)
        if compare not in _COMPARE:
            raise invalid("compare", _OWNER, "one of 'value', 'best'", compare)
        self._compare = compare
        self._kind = VALUE if compare == "value" else BEST
        self._index = HistoryIndex((self._kind,), group_of=self._group_of())

    compare = Setting[str](
        "_compare", "``'value'`` (value at the rung) or ``'best'`` (best value up to the rung)."
    )

    def decide(
        self, run_id: str, interval: int, histories: Histories, goal: PrimaryMetricGoal
    ) -> Decision:
        """Stop ``run_id`` at a rung unless it is in the top 1/eta of the runs that reached it."""
        ranked = self._rung_population(run_id, interval, histories, goal, self._kind)
        if ranked is None:
            return CONTINUE
        index, n = self._index, len(ranked)
        if self._kind == VALUE:
            mine = index.score(run_id, interval)
        else:
            mine = index.best(run_id, interval)
        better = count_better(ranked, mine)
        keep = max(1, n // self._eta)
        if better < keep:
            return CONTINUE
        what = "value" if self._kind == VALUE else "best"
        return Decision(
            True,
            f"ASHA: {what} {fmt(index.sign * mine)} at rung {interval} ranks {better + 1} of {n}; "
            f"only the top {keep} (1/{self._eta}) continue",
        )
