"""The `mtls` component package: the engine runs this with the plugin's arguments."""

from mtls_ingress.provider import main

main()
