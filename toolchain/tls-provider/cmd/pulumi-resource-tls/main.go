// Command pulumi-resource-tls is the tls provider plugin. schema.json and bridge-metadata.json
// are generated beside this file by pulumi-tfgen-tls before it is built
// (toolchain/tls-provider.sh).
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	bridge "github.com/hashicorp/terraform-provider-tls/pulumi"
)

//go:embed schema.json
var pulumiSchema []byte

//go:embed bridge-metadata.json
var bridgeMetadata []byte

func main() {
	meta := pf.ProviderMetadata{PackageSchema: pulumiSchema}
	pf.Main(context.Background(), "tls", bridge.Provider(bridgeMetadata), meta)
}
