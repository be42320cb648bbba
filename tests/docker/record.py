"""`docker` as devctl finds it on PATH in the docker tier: runs the real client, then records the argv and
its exit code, one JSON line per call, in $DEVCTL_DOCKER_RECORD (test_argv_coverage.py reads them).

Started as ``python -S record.py ARGS…`` by the ``docker`` script the tier puts first on PATH; the real
client is $DEVCTL_REAL_DOCKER. stdin, stdout and stderr are the real client's: devctl sees its output
unchanged. One write per record (O_APPEND), so calls made at the same time do not mix their lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main() -> int:
    argv = sys.argv[1:]
    code = subprocess.call([os.environ["DEVCTL_REAL_DOCKER"], *argv])
    line = json.dumps({"argv": ["docker", *argv], "exit": code}) + "\n"
    fd = os.open(os.environ["DEVCTL_DOCKER_RECORD"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return code


if __name__ == "__main__":
    sys.exit(main())
