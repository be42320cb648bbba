"""The Docker engine devctl talks to: which product it is (``products``) and what it offers (``detect``)."""
