"""Augmentation beyond single strategies: mixing real and synthetic data under a cap, and a
scripted fake LLM for augmentation tests (``augment.testing``)."""
