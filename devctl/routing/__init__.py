"""Which backend ingress-nginx sends a request to, computed the way the controller does.

- ``ingresses``: the Ingress objects of the manifests, as the routing model reads them;
- ``rules``: ingress-nginx's routing rules over them (servers, locations, matching a request);
- ``lint``: provable routing mistakes, and sample request paths that reach a given rule.
"""
