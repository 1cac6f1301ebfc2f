"""The Inception Score formula, shared by the toy and MNIST metric plugins."""

from __future__ import annotations

import torch


def inception_score(probs: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) per split, p(y) the split's mean prediction; mean and std over splits."""
    if probs.shape[0] < splits:
        raise ValueError(f"need at least {splits} predictions for {splits} splits, got {probs.shape[0]}")
    probs = probs.double().clamp_min(1e-12)
    scores = []
    for part in probs.chunk(splits):
        marginal = part.mean(0, keepdim=True)
        kl = (part * (part.log() - marginal.log())).sum(1).mean()
        scores.append(kl.exp())
    scores = torch.stack(scores)
    return scores.mean().item(), (scores.std(unbiased=False).item() if splits > 1 else 0.0)
