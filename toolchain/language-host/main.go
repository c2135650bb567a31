// pulumi-language-python: the language host the Pulumi engine starts to run a
// Python program.
//
// A small LanguageRuntime gRPC server built only from the
// github.com/pulumi/pulumi/sdk/v3 module, for machines whose Go module proxy
// does not serve the upstream language host module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3). It
// resolves the Python interpreter with sdk/v3/python/toolchain (honouring the
// `virtualenv` and `toolchain` runtime options of Pulumi.yaml), passes the
// stack config as PULUMI_CONFIG, and runs the program through the
// pulumi-language-python-exec script that ships inside the sdk/v3 module;
// toolchain/build.sh copies that script next to this file before building, and
// it is embedded into the binary.
//
// RunPlugin runs plugins written in Python from their directory: a policy pack
// (`pulumi preview --policy-pack`) through the pulumi_policy package's
// `pulumi.policy` module, anything else through its `__main__.py`.
//
// InstallDependencies (`pulumi install`, and `pulumi package add` or
// `get-schema` of a Python plugin) creates the virtualenv of the `virtualenv`
// runtime option when it is missing and installs the directory's
// requirements.txt into it.
//
// Not implemented: About, GetProgramDependencies (`pulumi about` warns).
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

//go:embed pulumi-language-python-exec
var execScript []byte

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	tracing       string
}

func (h *host) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// Plugins are loaded on demand by the engine (from PATH or the plugin cache).
func (h *host) GetRequiredPlugins(ctx context.Context,
	req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(ctx context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func optString(info *pulumirpc.ProgramInfo, key string) string {
	if info == nil || info.GetOptions() == nil {
		return ""
	}
	if v, ok := info.GetOptions().GetFields()[key]; ok {
		return v.GetStringValue()
	}
	return ""
}

func resolveToolchain(info *pulumirpc.ProgramInfo, pwd string) (toolchain.Toolchain, error) {
	root, progDir := pwd, pwd
	if info != nil {
		if info.GetRootDirectory() != "" {
			root = info.GetRootDirectory()
		}
		if info.GetProgramDirectory() != "" {
			progDir = info.GetProgramDirectory()
		}
	}
	opts := toolchain.PythonOptions{Root: root, ProgramDir: progDir, Virtualenv: optString(info, "virtualenv")}
	switch strings.ToLower(optString(info, "toolchain")) {
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "uv":
		opts.Toolchain = toolchain.Uv
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	default:
		opts.Toolchain = toolchain.Auto
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	f, err := os.CreateTemp("", "pulumi-language-python-exec-*.py")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(execScript); err != nil {
		return nil, err
	}
	f.Close()

	info := req.GetInfo()
	tc, err := resolveToolchain(info, req.GetPwd())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := []string{"-u", f.Name()}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	if info != nil {
		add("root_directory", info.GetRootDirectory())
	}
	program := req.GetProgram()
	if info != nil && info.GetProgramDirectory() != "" {
		program = info.GetProgramDirectory()
		if ep := info.GetEntryPoint(); ep != "" && ep != "." {
			program = filepath.Join(program, ep)
		}
	}
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	if cfg := req.GetConfig(); len(cfg) > 0 {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(b))
	}
	if keys := req.GetConfigSecretKeys(); len(keys) > 0 {
		b, err := json.Marshal(keys)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, "PULUMI_CONFIG_SECRET_KEYS="+string(b))
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			// Exit code 32 means the program already reported an actionable error to the engine.
			if ee.ExitCode() == 32 {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d",
				ee.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: "could not run python: " + err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a plugin whose source is a directory of Python, streaming its
// output to the engine and reporting its exit code.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	info := req.GetInfo()
	directory := info.GetProgramDirectory()
	tc, err := resolveToolchain(info, directory)
	if err != nil {
		return err
	}
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)
	var args []string
	if analyzer {
		// pulumi_policy serves the pack in <directory>, given last.
		args = append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
		args = append(args, directory)
	} else {
		args = append([]string{directory}, req.GetArgs()...)
	}
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	var proxy *sdk.PolicyProxy
	if analyzer {
		// A policy pack runs in its own directory and learns the stack it checks from the
		// environment: the proxy answers the engine's configuration call, then forwards
		// everything else to the pack once it has started.
		cmd.Dir = directory
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("starting the policy pack proxy: %w", err)
		}
		config, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("reading the stack configuration: %w", err)
		}
		if config != nil {
			set := func(key, value string) {
				if value != "" {
					cmd.Env = append(cmd.Env, key+"="+value)
				}
			}
			set("PULUMI_ORGANIZATION", config.GetOrganization())
			set("PULUMI_PROJECT", config.GetProject())
			set("PULUMI_STACK", config.GetStack())
			set("PULUMI_DRY_RUN", strconv.FormatBool(config.GetDryRun()))
			if values := config.GetConfig(); values != nil {
				encoded, err := json.Marshal(values)
				if err != nil {
					return err
				}
				set("PULUMI_CONFIG", string(encoded))
			}
		}
	} else {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the plugin: %w", err)
	}
	if proxy != nil {
		err = proxy.Attach(ctx, cmd)
	} else {
		err = cmd.Wait()
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if status, ok := exit.Sys().(syscall.WaitStatus); ok {
				return server.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(status.ExitStatus())},
				})
			}
		}
		return fmt.Errorf("running the plugin: %w", err)
	}
	return closer.Close()
}

// InstallDependencies prepares a program or plugin directory. With pip (the
// default toolchain) it creates the virtualenv named by the `virtualenv`
// runtime option when it is missing, then installs the directory's
// requirements.txt into it, if there is one; without a `virtualenv` option it
// refuses to install into the interpreter's own site-packages. With
// `toolchain: uv` or `poetry`, that tool installs the project.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	ctx := server.Context()
	info := req.GetInfo()
	directory := req.GetDirectory()
	if info != nil && info.GetProgramDirectory() != "" {
		directory = info.GetProgramDirectory()
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	tc, err := resolveToolchain(info, directory)
	if err != nil {
		return err
	}
	switch strings.ToLower(optString(info, "toolchain")) {
	case "uv", "poetry":
		if err := tc.InstallDependencies(ctx, directory, false, true, stdout, stderr); err != nil {
			return err
		}
		return closer.Close()
	}
	requirements := filepath.Join(directory, "requirements.txt")
	if _, err := os.Stat(requirements); err != nil {
		return closer.Close() // nothing to install
	}
	venv, err := tc.VirtualEnvPath(ctx)
	if err != nil {
		return err
	}
	if venv == "" {
		return fmt.Errorf("%s: set the `virtualenv` runtime option to install %s into a "+
			"virtualenv of its own", directory, requirements)
	}
	if !toolchain.IsVirtualEnv(venv) {
		fmt.Fprintf(stdout, "Creating virtual environment at %s\n", venv)
		cmd, err := toolchain.Command(ctx, "-m", "venv", venv)
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("creating virtual environment at %s: %w", venv, err)
		}
	}
	fmt.Fprintf(stdout, "Installing %s\n", requirements)
	cmd, err := tc.ModuleCommand(ctx, "pip", "install", "-r", requirements)
	if err != nil {
		return err
	}
	cmd.Dir = directory
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("installing %s: %w", requirements, err)
	}
	return closer.Close()
}

func main() {
	showVersion := flag.Bool("version", false, "print version and exit")
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	_ = flag.String("root", "", "Project root path (ignored)")
	_ = flag.String("virtualenv", "", "(ignored; use runtime options in Pulumi.yaml)")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	h := &host{tracing: *tracing}
	if args := flag.Args(); len(args) > 0 {
		h.engineAddress = args[0]
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start language host RPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host RPC stopped serving: %v\n", err)
		os.Exit(1)
	}
}
