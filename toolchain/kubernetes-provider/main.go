// Command pulumi-resource-kubernetes is pulumi-kubernetes's provider plugin, built from its
// published Go module. Upstream's own main package embeds schema-embed.json and
// terraform-mapping-embed.json, which its release build generates and the module zip does not
// ship; toolchain/kubernetes-provider.sh generates them beside this file from the schema.json
// and terraform-mapping.json that the module does ship.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
