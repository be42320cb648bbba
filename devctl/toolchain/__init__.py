"""kind, kubectl and Skaffold at the versions the repo pins: fetched, verified and used by devctl itself.

- ``catalog``: each tool's upstream download layout, checksum file and minimum version (the pins' type).
- ``platforms``: this machine's platform and where the shared store lives (pure functions).
- ``lockfile``: the committed lock (URL and SHA-256 per tool and platform): the trust anchor.
- ``store``: the shared store of verified binaries; reads never write, installs are atomic.
- ``fetch`` and ``progress``: HTTP downloads (mirror, proxies) and their progress display.
- ``resolve``: which executable a command runs (store > PATH at the minimum version > error).
- ``installer``, ``locking`` and ``prune``: what `devctl tools install|lock|prune` do; ``listing`` what
  `tools list` and `doctor` show; ``steps`` the install step of `devctl up`.
"""
