// Package bridge maps hashicorp/terraform-provider-tls onto Pulumi's tls package: the same
// resource and function tokens as the published pulumi-tls provider (tls:index/privateKey:PrivateKey,
// ...), so the pulumi-tls Python SDK drives it unchanged.
//
// The module path sits under github.com/hashicorp/terraform-provider-tls because Go lets only
// packages below that path import its internal/provider package.
package bridge

import (
	"unicode"

	"github.com/hashicorp/terraform-provider-tls/internal/provider"
	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// Version is the pulumi-tls release whose schema this provider serves; set with -ldflags -X.
var Version = "0.0.0"

func token(name string) string {
	return "tls:index/" + string(unicode.ToLower(rune(name[0]))) + name[1:] + ":" + name
}

// Provider describes the bridged provider. metadata is the bridge-metadata.json that tfgen wrote
// next to the schema (an empty object when generating it).
func Provider(metadata []byte) tfbridge.ProviderInfo {
	return tfbridge.ProviderInfo{
		P:            pf.ShimProvider(provider.New()),
		Name:         "tls",
		Description:  "A Pulumi package to create TLS resources in Pulumi programs.",
		License:      "Apache-2.0",
		Repository:   "https://github.com/pulumi/pulumi-tls",
		GitHubOrg:    "hashicorp",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			"tls_cert_request":        {Tok: tokens.Type(token("CertRequest"))},
			"tls_locally_signed_cert": {Tok: tokens.Type(token("LocallySignedCert"))},
			"tls_private_key":         {Tok: tokens.Type(token("PrivateKey"))},
			"tls_self_signed_cert":    {Tok: tokens.Type(token("SelfSignedCert"))},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"tls_public_key":  {Tok: tokens.ModuleMember(token("getPublicKey"))},
			"tls_certificate": {Tok: tokens.ModuleMember(token("getCertificate"))},
		},
		Python: &tfbridge.PythonInfo{RespectSchemaVersion: true},
		// As pulumi-tls: state written by schema version 0 is read without an upgrade, and
		// previews show the values the provider will compute rather than unknowns.
		EnableZeroDefaultSchemaVersion: true,
		EnableAccurateBridgePreview:    true,
	}
}
