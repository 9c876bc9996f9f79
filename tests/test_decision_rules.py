"""Decision rules that a plausible wrong edit would break silently (each test fails under that edit)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from planner.model.readiness import DEFAULT_THRESHOLDS, score_site  # noqa: E402
from test_readiness import AS_OF, strong  # noqa: E402


def test_a_critical_upgrade_alone_blocks_ready_now():
    # a strong campus whose only gap is the N+1 transformer: the score clears "ready now" by far, so the
    # class can only come from the critical upgrade (weak sites fail on their score first)
    r = score_site(strong(transformers_n_plus_1=False), as_of=AS_OF)
    assert r.total is not None and r.total >= DEFAULT_THRESHOLDS["ready_now_min_total"] + 10
    assert [u.key for u in r.upgrades if u.critical] == ["n1_transformer"]
    assert r.klass == "convertible_with_upgrades"
    assert score_site(strong(), as_of=AS_OF).klass == "ready_now"  # the same site with N+1 is ready now
