// Command etcd is the etcd server of the Kubernetes version in go.mod (etcd's own main package
// lives in a module that Kubernetes does not depend on; this is the same entry point).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
