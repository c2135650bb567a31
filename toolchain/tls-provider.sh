#!/usr/bin/env bash
# pulumi-resource-tls at the version pinned for pulumi-tls in requirements.txt.
#
# pulumi-tls's provider module is not served by the module proxy, but what it is made of is:
# hashicorp/terraform-provider-tls at the commit pulumi-tls pins, the Terraform bridge, and
# Pulumi's fork of terraform-plugin-sdk. tls-provider/ is the glue (the resource tokens of the
# tls package); this recipe builds its schema generator, generates schema.json and
# bridge-metadata.json (the generator looks up the upstream docs with `go mod download` from a
# folder named `provider`), and embeds them in the provider plugin. The schema is kept in
# $MTLS_TOOLCHAIN_CACHE/plugins/tls-schema.json for the tests that compare it with the Python SDK.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=$(pinned pulumi-tls)
stamp=$(stamp_of "$version" "$0" $(find "$toolchain_dir/tls-provider" -type f | sort))
current tls-provider "$stamp" plugins/pulumi-resource-tls && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy tls-provider tls-provider/provider
ldflags="-s -w -X github.com/hashicorp/terraform-provider-tls/pulumi.Version=$version"
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$work/pulumi-tfgen-tls" ./cmd/pulumi-tfgen-tls)
(cd "$work" && PULUMI_CONVERT=0 ./pulumi-tfgen-tls schema --skip-examples --out "$work/cmd/pulumi-resource-tls" >/dev/null)
# As pulumi-tls's release build: the embedded schema carries the provider's version.
python3 - "$work/cmd/pulumi-resource-tls/schema.json" "$version" <<'PY'
import json, pathlib, sys
path = pathlib.Path(sys.argv[1])
schema = json.loads(path.read_text())
schema["version"] = sys.argv[2]
path.write_text(json.dumps(schema, indent=2))
PY
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$plugins/pulumi-resource-tls" ./cmd/pulumi-resource-tls)
cp "$work/cmd/pulumi-resource-tls/schema.json" "$plugins/tls-schema.json"

built tls-provider "$stamp" "$started"
