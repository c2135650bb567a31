"""mtls-ingress policy pack: the mistakes that break mutual TLS, or leak its keys, stopped in
`pulumi preview` for any stack that uses the components or declares the same resources itself.

    pulumi preview --policy-pack policy [--policy-pack-config levels.json]

Every policy is mandatory unless the configuration says otherwise (see the README, "Policy
pack")."""

from mtls_policy import rules
from mtls_policy.engine import keep_secrecy, resource_policy, stack_policy
from pulumi_policy import EnforcementLevel, PolicyPack

keep_secrecy()

ANNOTATION_PREFIX = {
    "annotationPrefix": {
        "type": "string",
        "default": rules.DEFAULT_ANNOTATION_PREFIX,
        "description": "The controller's --annotations-prefix.",
    }
}

PolicyPack(
    name="mtls-ingress",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        resource_policy(
            "key-strength",
            rules.key_strength,
            {
                "minimumRsaBits": {
                    "type": "integer",
                    "minimum": 2048,
                    "default": rules.DEFAULT_MINIMUM_RSA_BITS,
                    "description": "The smallest RSA key allowed, in bits.",
                }
            },
        ),
        resource_policy(
            "leaf-validity",
            rules.leaf_validity,
            {
                "maximumDays": {
                    "type": "integer",
                    "minimum": 1,
                    "default": rules.DEFAULT_MAXIMUM_LEAF_DAYS,
                    "description": "The longest validity of a leaf certificate, in days.",
                }
            },
        ),
        resource_policy("ingress-verify-client", rules.verify_client_on, ANNOTATION_PREFIX),
        stack_policy(
            "ingress-ca-from-stack",
            rules.ca_secret_in_stack,
            {
                **ANNOTATION_PREFIX,
                "allowCrossNamespaceResources": {
                    "type": "boolean",
                    "default": False,
                    "description": "The controller's allow-cross-namespace-resources: "
                    "whether an Ingress may name a Secret of another namespace.",
                },
            },
        ),
        resource_policy("client-ca-crl", rules.client_ca_crl),
        resource_policy("no-private-key-in-config-map", rules.no_private_key_in_config_map),
        stack_policy("private-keys-are-secret", rules.private_keys_are_secret),
        resource_policy(
            "no-private-key-in-rendered-manifest", rules.no_private_key_in_rendered_manifest
        ),
    ],
)
