"""The kind cluster and its local registry: the cluster part of ``devctl up`` and ``devctl down``.

Built the ctlptl way (style.md Take 4-5, kind.md §7): ``spec`` says what devctl wants, ``observe``
looks at what exists with as few tool calls as possible, ``plan`` (pure) decides and says why,
``steps`` (with ``run``, what they share, and ``actions``), ``registry`` and ``teardown`` act only where the
plan says so. ``report`` is the read-only view `devctl cluster status` renders.
"""
