#!/usr/bin/env bash
# pulumi-resource-kubernetes at the version pinned for pulumi-kubernetes in requirements.txt.
#
# Tagged versions of github.com/pulumi/pulumi-kubernetes/provider/v4 are not served by the module
# proxy; the pseudo-version of the tagged commit is (kubernetes-provider/go.mod). Upstream's main
# package embeds schema-embed.json and terraform-mapping-embed.json, which its release build
# generates from the schema.json and terraform-mapping.json that the module does ship; so does
# this recipe, beside a main package of the same three lines (kubernetes-provider/main.go).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=$(pinned pulumi-kubernetes)
stamp=$(stamp_of "$version" "$0" "$toolchain_dir"/kubernetes-provider/*)
current kubernetes-provider "$stamp" plugins/pulumi-resource-kubernetes && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy kubernetes-provider
module=$(sed -n 's/^require \(github.com\/pulumi\/pulumi-kubernetes\/provider\/v4\) \(.*\)$/\1@\2/p' "$work/go.mod")
upstream=$(module_dir "$module")/cmd/pulumi-resource-kubernetes
python3 - "$upstream" "$work" "$version" <<'PY'
import json, pathlib, sys
upstream, work, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
schema = json.loads((upstream / "schema.json").read_text())
schema["version"] = version
(work / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
mapping = json.loads((upstream / "terraform-mapping.json").read_text())
(work / "terraform-mapping-embed.json").write_text(json.dumps(mapping, separators=(",", ":")))
PY
(cd "$work" && go build -trimpath -o "$plugins/pulumi-resource-kubernetes" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$version" .)

built kubernetes-provider "$stamp" "$started"
