"""A client CA Secret named by its user, as something else (a workload, a controller flag)
points at it by name; the Kubernetes provider updates Secrets in place."""

import pulumi

from components import CaSecret, CertificateAuthority

config = pulumi.Config()
authorities = [
    CertificateAuthority(f"ca-{index}", {"common_name": f"Named Secret CA {index}"})
    for index in range(config.require_int("authorities"))
]
secret = CaSecret(
    "clients",
    {
        "namespace": config.require("namespace"),
        "ca_bundle_pem": pulumi.Output.concat(*[ca.certificate_pem for ca in authorities]),
        "updated_in_place": True,
        "secret_name": "team-client-ca",
    },
)
pulumi.export("secretName", secret.secret_name)
