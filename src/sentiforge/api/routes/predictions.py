"""Predictions: POST /v1/sentiment with one text or a batch."""

from __future__ import annotations

from fastapi import APIRouter

from sentiforge.api.deps import PredictKey, RegistryDep, SettingsDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.metrics import PREDICTIONS
from sentiforge.api.schemas import SentimentIn, SentimentOut
from sentiforge.errors import ConfigError

router = APIRouter(prefix="/v1", tags=["predictions"], responses=ERRORS)


@router.post("/sentiment")
def sentiment(body: SentimentIn, registry: RegistryDep, settings: SettingsDep, _: PredictKey) -> SentimentOut:
    """Label, scores per label (and a rationale from a reasoner) and the model's id, for ``text``; a
    list of them for ``texts``."""
    texts = [body.text] if body.text is not None else list(body.texts or [])
    if len(texts) > settings.predict_batch_limit:
        raise ConfigError(
            f"{len(texts)} texts in one request; the limit is {settings.predict_batch_limit} "
            "(SENTIFORGE_PREDICT_BATCH_LIMIT): split the batch"
        )
    model, predictions = registry.predict(texts, body.model)
    PREDICTIONS.labels(model).inc(len(texts))
    if body.text is not None:
        one = predictions[0]
        return SentimentOut(model=model, label=one.label, scores=one.scores, rationale=one.rationale)
    return SentimentOut(model=model, predictions=predictions)
