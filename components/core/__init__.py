"""Facts shared by the components, the policy pack and the local cluster: object names and
value formats (`formats`), ingress-nginx's annotations (`annotations`), PEM and CRL handling
(`pem`), and the components' argument checks (`validation`) and output helpers (`outputs`).

`formats`, `annotations` and `pem` need only the standard library and cryptography, so that
the policy pack (which runs in its own virtualenv) can import them.
"""
