"""Backtranslation: round trips through pivots, rejected when identical or drifting."""

from __future__ import annotations

import shutil

import pytest

from sentiforge.errors import ConfigError
from sentiforge.labels import Aspect
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.strategies import apertium
from sentiforge.strategies.base import build_strategy
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import ScriptedAugmenter, run_augmentation, seed_dataset

FAKE_EMB = {"embedder": "fake"}
needs_apertium = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium binary not installed")


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


async def test_round_trip_through_french_keeps_label_and_records_the_pivot(store: Store) -> None:
    seed_dataset(store)
    res, fake = await run_augmentation(store, "backtranslate", {"per_seed": 2, **FAKE_EMB})
    assert res.status == "completed" and res.done == 8
    seeds = {s.id: s for s in store.samples(store.dataset_id("seeds"))}
    for out in store.samples(res.dataset_id):
        seed = seeds[out.provenance.parent_id]  # type: ignore[index]
        assert out.label == seed.label and out.text != seed.text and out.language == "en"
        assert out.attributes["route"] == "fr" and out.attributes["pivot_text"].startswith("<fr>")
        assert 0.3 <= out.attributes["similarity"] <= 0.99
        assert out.provenance.strategy == "backtranslate" and out.provenance.params["engine"] == "llm"
    targets = [
        r.messages[-1].content.split(" into ")[1].split(".")[0]
        for r in fake.history
        if "Translate" in r.messages[-1].content
    ]
    assert set(targets) == {"French", "English"}
    french_system = [r.messages[0].content for r in fake.history if "into French" in r.messages[-1].content]
    assert all("français" in s for s in french_system)  # each hop speaks its target language


async def test_identical_round_trip_is_rejected(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(
        store, "backtranslate", FAKE_EMB, max_attempts=1, backend=FakeBackend(responder=ScriptedAugmenter(echo=True))
    )
    assert res.done == 0
    reasons = {r.reason for r in store.samples(res.dataset_id, status="rejected")}
    assert reasons == {"identical: the round trip came back identical to the seed"}


async def test_drift_below_the_bound_is_rejected(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(
        store, "backtranslate", FAKE_EMB, max_attempts=1, backend=FakeBackend(responder=ScriptedAugmenter(drift=True))
    )
    assert res.done == 0
    rejects = store.samples(res.dataset_id, status="rejected")
    assert {r.attributes["check"] for r in rejects} == {"drift"}
    assert all("is below 0.3 (fake)" in (r.reason or "") for r in rejects)


async def test_bounds_are_options(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(store, "backtranslate", {**FAKE_EMB, "max_similarity": 0.5}, max_attempts=1)
    assert res.done == 0
    assert all("near-identical" in (r.reason or "") for r in store.samples(res.dataset_id, status="rejected"))


async def test_a_chain_of_pivots_and_several_routes(store: Store) -> None:
    seed_dataset(store, [Sample(text="The pizza was not good at all.", label="negative")])
    res, fake = await run_augmentation(store, "backtranslate", {"per_seed": 2, "routes": ["es>fr", "de"], **FAKE_EMB})
    assert res.done == 2
    assert sorted(s.attributes["route"] for s in store.samples(res.dataset_id)) == ["de", "es>fr"]
    hops = [r.messages[-1].content.split("\n")[0] for r in fake.history if "Translate" in r.messages[-1].content]
    assert len(hops) == 3 + 2


async def test_aspects_that_do_not_survive_are_rejected(store: Store) -> None:
    seed = Sample(text="The battery died fast.", aspects=[Aspect(term="battery", polarity="negative")])
    seed_dataset(store, [seed], scheme="aspect")
    res, _ = await run_augmentation(store, "backtranslate", FAKE_EMB, scheme="aspect")
    assert res.done == 1 and store.samples(res.dataset_id)[0].aspects[0].term == "battery"  # type: ignore[index]

    def lose_term(request):  # type: ignore[no-untyped-def]
        return ScriptedAugmenter()(request).replace("battery", "power cell")

    res, _ = await run_augmentation(
        store,
        "backtranslate",
        FAKE_EMB,
        scheme="aspect",
        dataset="lost",
        max_attempts=1,
        backend=FakeBackend(responder=lose_term, model="fake-2"),
    )  # no cached answers
    assert res.done == 0
    assert "was lost in the round trip" in (store.samples(res.dataset_id, status="rejected")[0].reason or "")


def test_routes_are_validated() -> None:
    with pytest.raises(ConfigError, match="empty backtranslation route"):
        build_strategy("backtranslate", {"routes": [" > "]})
    with pytest.raises(ConfigError, match="invalid options"):
        build_strategy("backtranslate", {"engine": "babelfish"})


def test_missing_apertium_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="apt-get install apertium"):
        build_strategy("backtranslate", {"engine": "apertium", "routes": ["es"]})


@needs_apertium
def test_apertium_lists_its_pairs_and_names_a_missing_one() -> None:
    pairs = apertium.pairs()
    assert ("en", "es") in pairs and ("es", "en") in pairs
    with pytest.raises(ConfigError, match=r"no en->fr pair installed \(installed: .*en->es"):
        apertium.mode_for("en", "fr")


@needs_apertium
async def test_apertium_round_trip_through_spanish(store: Store) -> None:
    seed_dataset(
        store,
        [
            Sample(text="The waiter was rude and the food was cold.", label="negative"),
            Sample(text="We loved the fresh bread and the friendly staff.", label="positive"),
        ],
    )
    res, fake = await run_augmentation(
        store,
        "backtranslate",
        {
            "engine": "apertium",
            "routes": ["es"],
            "check_polarity": "off",
            **FAKE_EMB,
            "max_similarity": 1.0,
        },
        max_attempts=1,
    )
    assert res.rejected + res.done == 2 and not fake.history  # no LLM call at all
    for out in store.samples(res.dataset_id):
        assert out.attributes["pivot_text"] != out.text and out.provenance.params["engine"] == "apertium"


@needs_apertium
async def test_apertium_without_the_pair_fails_the_job_with_the_reason(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(store, "backtranslate", {"engine": "apertium", "routes": ["fr"], **FAKE_EMB})
    assert res.status == "failed" and "no en->fr pair" in (res.error or "")
