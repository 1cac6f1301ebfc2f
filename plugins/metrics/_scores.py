"""The Inception Score formula and its two factors, shared by the toy and MNIST metric plugins."""

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


def class_coverage(probs: torch.Tensor) -> dict:
    """Why an IS is what it is. Over all samples, IS = classes_effective / classes_per_sample:
    `classes_effective` = exp H(mean p(y|x)) is how many classes the samples spread over (the class
    count for balanced data; low under mode dropping, which `class_shares` shows), and
    `classes_per_sample` = exp E H(p(y|x)) how many one sample's prediction hesitates between
    (1 for crisp samples; high for blurry ones)."""
    probs = probs.double().clamp_min(1e-12)
    marginal = probs.mean(0)
    shares = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).double() / probs.shape[0]
    return {"class_shares": [round(share, 4) for share in shares.tolist()],
            "classes_effective": (-(marginal * marginal.log()).sum()).exp().item(),
            "classes_per_sample": (-(probs * probs.log()).sum(1).mean()).exp().item()}
