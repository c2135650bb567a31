"""The engine tests' program: a RevocationList whose issuing CA comes from stack config, and
a renewal schedule whose generation is another resource's replacement trigger, as it is for
every leaf key of the stack."""

import pulumi

from components.pki import RevocationList
from components.pki.renewal import RenewalSchedule

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

schedule = RenewalSchedule(
    "server-renewal",
    validity_days=config.get_int("serverValidityDays") or 90,
    renew_before_days=30,
)
# Stands in for a leaf's private key, which cannot be created without the pulumi-tls plugin.
RenewalSchedule(
    "key-stand-in",
    validity_days=2,
    renew_before_days=1,
    opts=pulumi.ResourceOptions(replacement_trigger=schedule.generation),
)
pulumi.export("renewalGeneration", schedule.generation)
