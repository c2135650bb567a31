"""The rules of the mtls-ingress policy pack, apart from the pulumi-policy SDK that runs them:
`values` (what a property value is: plain, secret or unknown), `rules` (each policy's check)
and `engine` (the SDK glue, imported only in the pack).

The facts the rules share with the components (annotation names, PEM and CRL handling) come
from `components.core`: `policy/components` links to the repository's package, so that the
pack, copied or published, carries them (they need only the standard library and
cryptography, which the pack's virtualenv has)."""
