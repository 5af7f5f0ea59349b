"""The risk demo seed: the default scorecard and the risk role's grant, idempotent."""

from typing import Any

from loandesk.accounts.models import Role
from loandesk.demo.services import seed_demo
from loandesk.risk import scoring
from loandesk.risk.demo import DEFAULT_SCORECARD
from loandesk.risk.models import Scorecard


def test_demo_seeds_the_default_scorecard_once(demo: Any) -> None:
    card = Scorecard.objects.get(code="default")
    assert card.name == "默认个人贷款评分卡"
    assert card.is_active and card.version == 1
    compiled = scoring.compile_definition(card.definition)
    assert 6 <= len(compiled.rules) <= 8
    assert [g.grade for g in compiled.grades] == ["A", "B", "C", "D"]
    assert [g.decision for g in compiled.grades] == ["approve", "approve", "review", "reject"]
    assert "risk.manage_scorecards" in Role.objects.get(code="risk").permissions
    assert "risk.manage_scorecards" in Role.objects.get(code="admin").permissions
    assert "risk.manage_scorecards" not in Role.objects.get(code="officer").permissions

    # an admin's edit survives a re-seed, nothing is duplicated
    Scorecard.objects.filter(pk=card.pk).update(name="改过的名字", version=2)
    created = seed_demo()
    assert created.get("risk") == 0
    assert Scorecard.objects.count() == 1
    card.refresh_from_db()
    assert (card.name, card.version) == ("改过的名字", 2)
    assert card.definition == DEFAULT_SCORECARD
