"""Builds sparkplug_b_pb2.py and its .pyi stub from sparkplug_b.proto with grpcio-tools' protoc."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO = "sparkplug_b.proto"
GENERATED = ("sparkplug_b_pb2.py", "sparkplug_b_pb2.pyi")

log = logging.getLogger(__name__)


def generate(out_dir: Path = HERE) -> list[Path]:
    """Run protoc on the .proto into `out_dir`; returns the generated files."""
    # grpcio-tools (the `test` extra, never needed at run time) runs in its own process: its
    # bundled protobuf and abseil crash a process that has loaded ortools' copies
    args = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={HERE}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        str(HERE / PROTO),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed on {HERE / PROTO}: {result.stderr.strip()[:2000]}")
    return [out_dir / name for name in GENERATED]


def main() -> int:
    """`python -m shopfloor.sparkplug.generate`: regenerate the committed module in place."""
    logging.basicConfig(level=logging.INFO)
    for path in generate():
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
