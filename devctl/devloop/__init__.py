"""The Skaffold dev loop: run ``skaffold dev`` under supervision and show what it is doing.

Data flows one way: Skaffold's ``/v2/events`` (``events``) or, without the API, its console lines
(``console``) become typed updates (``updates``), which a view model (``model``) folds into one row
per service; ``view`` draws that model. ``supervisor`` owns the process group and Ctrl-C, ``api``
reads the event stream, ``run`` wires them together (``run_dev``).
"""
