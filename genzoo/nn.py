"""Small building blocks the architecture plugins share."""

from __future__ import annotations

from torch import nn


def mlp(in_dim: int, width: int, depth: int, out_dim: int, dropout: float = 0.0) -> nn.Sequential:
    """`depth` hidden ReLU layers of `width` units, then a linear output layer."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else width, width), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(width if depth else in_dim, out_dim))
    return nn.Sequential(*layers)


def xavier_init(module: nn.Module) -> nn.Module:
    """Glorot-uniform weights and zero biases for every linear and conv layer ([sVAE] section 6)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module
