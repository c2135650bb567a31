"""A RevocationList whose issuing CA comes from stack config: the engine tests' program."""

import pulumi

from components.pki import RevocationList

config = pulumi.Config()
ca_certificate = config.require("caCertificate")
revocations = RevocationList(
    "clients",
    {
        "issuer": {
            "certificate_pem": ca_certificate,
            "private_key_pem": config.require_secret("caPrivateKey"),
            "intermediates_pem": "",
            "trust_bundle_pem": ca_certificate,
            "depth": 1,
        },
        "revoked": [
            {
                "serial_number": str(entry["serialNumber"]),
                "reason": entry.get("reason", "unspecified"),
            }
            for entry in config.get_object("revoked") or []
        ],
        "validity_days": 30,
        "refresh_before_days": 7,
    },
)
pulumi.export("crlPem", revocations.crl_pem)
pulumi.export("crlNumber", revocations.crl_number)
pulumi.export("nextUpdate", revocations.next_update)
