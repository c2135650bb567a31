// Command pulumi-tfgen-tls generates the Pulumi schema (schema.json) and bridge metadata
// (bridge-metadata.json) of the tls provider: pulumi-tfgen-tls schema --out DIR.
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	bridge "github.com/hashicorp/terraform-provider-tls/pulumi"
)

func main() {
	pftfgen.Main("tls", bridge.Provider([]byte("{}")))
}
