"""One resource (or output) per violation of the mtls-ingress policy pack, declared with the
providers directly, the way a stack that does not use the components could. Its Kubernetes
objects are rendered to a directory (stack config kubernetes:renderYamlToDirectory)."""

from datetime import UTC, datetime, timedelta

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components.pki.crl import build_crl
from support.pki_material import make_authority

root = make_authority("Violations Client Root CA")
issuing = make_authority("Violations Client Issuing CA")
root_pem, root_key, issuing_pem = (
    root.certificate_pem,
    root.private_key_pem,
    issuing.certificate_pem,
)
now = datetime.now(UTC)
root_crl = build_crl(
    issuer_certificate_pem=root_pem,
    issuer_private_key_pem=root_key,
    entries={},
    crl_number=1,
    this_update=now,
    next_update=now + timedelta(days=7),
)

# key-strength: RSA below 2048 bits, and ECDSA left on the provider's default curve (P-224).
tls.PrivateKey("weak-rsa", algorithm="RSA", rsa_bits=1024)
tls.PrivateKey("default-curve", algorithm="ECDSA")
strong = tls.PrivateKey("strong", algorithm="ECDSA", ecdsa_curve="P256")

# leaf-validity: a leaf certificate for 800 days.
tls.SelfSignedCert(
    "long-leaf",
    private_key_pem=strong.private_key_pem,
    validity_period_hours=800 * 24,
    allowed_uses=["digital_signature", "client_auth"],
    subject=tls.SelfSignedCertSubjectArgs(common_name="long-leaf"),
)

# client-ca-crl: two CAs verify clients, the CRL covers only one.
k8s.core.v1.Secret(
    "client-ca",
    metadata={"namespace": "payments", "name": "client-ca"},
    string_data={"ca.crt": root_pem + issuing_pem, "ca.crl": root_crl},
)

# ingress-verify-client and ingress-ca-from-stack: optional verification against a Secret
# that no stack here manages.
k8s.networking.v1.Ingress(
    "api",
    metadata={
        "namespace": "payments",
        "annotations": {
            "nginx.ingress.kubernetes.io/auth-tls-secret": "payments/made-by-hand",
            "nginx.ingress.kubernetes.io/auth-tls-verify-client": "optional",
        },
    },
    spec={"rules": [{"host": "api.payments.localhost"}]},
)

# no-private-key-in-config-map, and no-private-key-in-rendered-manifest (twice: the ConfigMap
# and a Secret, whose key is a Pulumi secret but lands in a plain YAML file all the same).
k8s.core.v1.ConfigMap("settings", metadata={"namespace": "payments"}, data={"tls.key": root_key})
k8s.core.v1.Secret(
    "server-tls",
    metadata={"namespace": "payments"},
    type="kubernetes.io/tls",
    string_data={"tls.crt": root_pem, "tls.key": pulumi.Output.secret(root_key)},
)

# private-keys-are-secret: the same key as a plain output and as a secret one.
pulumi.export("leakedKey", root_key)
pulumi.export("sealedKey", pulumi.Output.secret(root_key))
