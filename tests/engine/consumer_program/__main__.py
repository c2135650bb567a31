"""Another team's stack: a CA, two clients, one revoked, from the installed package."""

import pulumi
from mtls_ingress import CertificateAuthority, ClientCertificate, RevocationList

ca = CertificateAuthority("team-ca", {"common_name": "Team CA"})
clients = {
    name: ClientCertificate(
        name, {"issuer": ca.as_issuer(), "common_name": name, "validity_days": 90}
    )
    for name in ("alice", "bob")
}
crl = RevocationList(
    "team-crl",
    {
        "issuer": ca.as_issuer(),
        "revoked": [{"serial_number": clients["bob"].serial_number, "reason": "keyCompromise"}],
    },
)
pulumi.export("bobSerial", clients["bob"].serial_number)
pulumi.export("crl", crl.crl_pem)
pulumi.export("aliceKey", clients["alice"].private_key_pem)
