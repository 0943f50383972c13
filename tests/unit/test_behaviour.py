"""The simulation's behaviour model is configuration: validated, with file and key in every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from overdue.config import ConfigError
from overdue.settings import PROJECT_ROOT
from overdue.sim.behaviour import load_behaviour

SHIPPED = PROJECT_ROOT / "configs" / "simulation.yaml"


def test_the_shipped_model_loads() -> None:
    model = load_behaviour(SHIPPED)
    assert set(model.answer_call) == {"steady", "forgetful", "strained", "distressed"}
    assert len(set(model.ops_staff)) >= 2  # a requester is never the approver


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("distressed: 0.1}            # a call", "}            # a call", "answer_call"),
        ("stop_reply: 0.004", "stop_reply: 4", "stop_reply"),
    ],
)
def test_a_bad_model_names_the_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = tmp_path / "behaviour.yaml"
    text = SHIPPED.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(ConfigError, match=rf"behaviour\.yaml: key '{key}'"):
        load_behaviour(path)
