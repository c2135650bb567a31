// pulumi-language-yaml: the language host of Pulumi YAML programs, from the
// github.com/pulumi/pulumi-yaml module (its pkg/server), with the one RPC that
// module's release does not answer: Link, which `pulumi package add` calls once
// it has generated the package's SDK. A YAML program needs no linking: it names
// a package's resources by their type tokens, and the engine finds the plugin
// through the `packages:` section that `pulumi package add` writes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/pulumi/pulumi-yaml/pkg/server"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

type host struct {
	pulumirpc.LanguageRuntimeServer
}

// Link has nothing to write into a YAML project; it tells the user how the
// package's resources are named.
func (host) Link(_ context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	names := make([]string, 0, len(req.GetPackages()))
	for _, dependency := range req.GetPackages() {
		names = append(names, dependency.GetPackage().GetName())
	}
	if len(names) == 0 {
		return &pulumirpc.LinkResponse{}, nil
	}
	return &pulumirpc.LinkResponse{ImportInstructions: fmt.Sprintf(
		"Declare the resources of %s by their type tokens, e.g. %s:index:<Resource>.",
		strings.Join(names, ", "), names[0])}, nil
}

func fail(context string, err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-yaml: %s: %v\n", context, err)
	os.Exit(1)
}

func main() {
	tracing := flag.String("tracing", "", "emit tracing to a Zipkin-compatible endpoint")
	flag.String("root", "", "root of the program execution")
	flag.String("compiler", "", "(obsolete)")
	flag.Parse()

	engine := flag.Arg(0)
	var stop chan bool
	if engine != "" {
		// Serve until the engine stops answering its health check, or SIGINT.
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
		stop = make(chan bool)
		go func() {
			<-ctx.Done()
			cancel()
			close(stop)
		}()
		if err := rpcutil.Healthcheck(ctx, engine, 5*time.Minute, cancel); err != nil {
			fail("health check of the engine", err)
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			upstream := server.NewLanguageHost(engine, *tracing, false)
			pulumirpc.RegisterLanguageRuntimeServer(srv, host{upstream})
			return nil
		},
	})
	if err != nil {
		fail("starting the gRPC server", err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail("serving", err)
	}
}
