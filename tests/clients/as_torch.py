"""Run a program written for PyTorch with retrograd standing in for ``torch``.

    python tests/clients/as_torch.py program.py [args...]

Every ``import torch`` / ``import torch.nn.functional as F`` / ``from torch.utils.data import
...`` resolves to the retrograd module of the same path. A torch submodule retrograd does not
have fails to import (it never falls through to a real PyTorch installed beside it).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys


class TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch`` and ``torch.*`` and loads the matching ``retrograd`` module instead."""

    def find_spec(self, name, path=None, target=None):
        if name != "torch" and not name.startswith("torch."):
            return None
        real = "retrograd" + name[len("torch"):]
        if importlib.util.find_spec(real) is None:
            raise ModuleNotFoundError(f"No module named '{name}' (retrograd has no {real})",
                                      name=name)
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        return importlib.import_module("retrograd" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass  # the retrograd module is already executed


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    sys.meta_path.insert(0, TorchAlias())
    program = os.path.abspath(argv[0])
    sys.path.insert(0, os.path.dirname(program))
    sys.argv = argv
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
