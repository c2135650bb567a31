"""mtls-ingress components: a private PKI and the Kubernetes objects that enforce mutual TLS.

Import what you need from the subpackages, e.g.
`from components.pki import CertificateAuthority, ClientCertificate`.
"""
