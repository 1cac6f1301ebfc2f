"""Moved: the joint-adversarial base of the built-in ALI, ALICE, sVAE and sVAE-r now lives beside
them (genzoo_plugins.objectives._joint). This name keeps working for one release, with a warning."""

import importlib
import warnings


def __getattr__(name):
    warnings.warn("genzoo.adversarial is deprecated: subclass genzoo.interfaces.Objective, or import "
                  "genzoo_plugins.objectives._joint", DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module("genzoo_plugins.objectives._joint"), name)
