"""Record what each client program prints under PyTorch into ``expected/<program>.txt``.

    python tests/clients/record_expected.py [program.py ...]

Needs PyTorch installed. The client test compares retrograd's output with these files when
PyTorch is absent, and checks them against a live PyTorch run when it is present.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
from test_clients import EXPECTED, PROGRAMS, run_program  # noqa: E402


def main(names: list[str]) -> None:
    EXPECTED.mkdir(exist_ok=True)
    for name in names or PROGRAMS:
        out = run_program(name, as_retrograd=False)
        (EXPECTED / (Path(name).stem + ".txt")).write_text(out)
        print(f"recorded {name}: {len(out.splitlines())} lines")


if __name__ == "__main__":
    main(sys.argv[1:])
