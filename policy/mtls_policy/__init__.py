"""The rules of the mtls-ingress policy pack, apart from the pulumi-policy SDK that runs them:
`values` (what a property value is: plain, secret or unknown), `material` (private keys in
text), `rules` (each policy's check) and `engine` (the SDK glue, imported only in the pack)."""
