// Package deployment finds a deployed recipient stack's parts for the
// operator commands (`logfan doctor`, `redrive`, `senders`, `quarantine`):
// the stack's outputs and parameters (CloudFormation DescribeStacks) and
// each function's configuration (Lambda GetFunctionConfiguration: its
// environment, its route table, its keys), so that nobody rebuilds a
// function's environment by hand. Environment variables still override
// what the deployment says, for local emulators.
package deployment

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// ErrNotFound is returned (wrapped) when the stack does not exist in the region.
var ErrNotFound = errors.New("stack not found")

// Watchdog is the key of the watchdog function in Deployment.Functions.
const Watchdog = "watchdog"

// Deployment is one deployed recipient stack, as the operator commands read it.
type Deployment struct {
	// Stack and Region locate the stack; Account is the stack's account.
	Stack, Region, Account string
	// StackID is the stack's ARN; Status its CloudFormation status (CREATE_COMPLETE, ...).
	StackID, Status string
	// Outputs and Parameters are the stack's, by key (see naming.Output*).
	Outputs, Parameters map[string]string
	// Functions are the consumer functions by sink, and the watchdog under Watchdog.
	Functions map[string]*Function
	// Config is the SDK configuration the deployment was read with (its region).
	Config aws.Config
	// Layers reads layer versions (Lambda in Config's region by default).
	Layers LayerAPI
	// HTTP downloads layer contents (http.DefaultClient by default).
	HTTP *http.Client
}

// Function is a deployed function's configuration.
type Function struct {
	// Sink is the function's sink, or Watchdog.
	Sink string
	// Name and ARN identify the function; Role is its execution role's ARN.
	Name, ARN, Role string
	// Env is the function's environment as deployed.
	Env map[string]string
	// KMSKeyARN encrypts the environment at rest ("" for the AWS-managed key).
	KMSKeyARN string
	// Layers are the ARNs of the function's layers (the route table, when it is too large for the environment).
	Layers []string
	// State and LastUpdateStatus are Lambda's (Active, Successful, ...); StateReason says why when not.
	State, LastUpdateStatus, StateReason string
	// LogGroup is where the function logs.
	LogGroup string
}

// Flags are the -stack and -region flags every operator command takes.
type Flags struct {
	// Stack is the recipient stack's name (default naming.RecipientStack).
	Stack string
	// Region is the stack's region (default: the SDK's).
	Region string
	fs     *flag.FlagSet
}

// AddFlags registers -stack and -region on fs.
func AddFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.StringVar(&f.Stack, "stack", naming.RecipientStack, "the deployed recipient stack to read the configuration from (its outputs and its functions' environments)")
	fs.StringVar(&f.Region, "region", "", "the stack's region (default: the AWS CLI's, AWS_REGION or the profile's)")
	return f
}

// StackGiven reports whether -stack was on the command line.
func (f *Flags) StackGiven() bool {
	given := false
	f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == "stack" })
	return given
}

// Load reads the stack the flags name. When it cannot be read and -stack
// was not given (the default stack is not deployed there, or no
// credentials reach it), it returns a nil Deployment, no error, and a note
// for the operator saying why: the command then runs on the LOGFAN_*
// environment alone, as against a local emulator without a stack.
func (f *Flags) Load(ctx context.Context) (d *Deployment, cfg aws.Config, note string, err error) {
	cfg, err = sdkconfig.Load(ctx, f.Region)
	if err != nil {
		return nil, cfg, "", err
	}
	d, err = Load(ctx, cfg, f.Stack)
	switch {
	case err == nil || f.StackGiven():
		return d, cfg, "", err
	case errors.Is(err, ErrNotFound):
		return nil, cfg, fmt.Sprintf("stack %s not found in %s: using the LOGFAN_* environment only (pass -stack and -region to read a deployment)", f.Stack, cfg.Region), nil
	default:
		return nil, cfg, fmt.Sprintf("could not read stack %s in %s (%v): using the LOGFAN_* environment only", f.Stack, cfg.Region, err), nil
	}
}

// Load reads stack in cfg's region: its outputs and parameters, and the
// configuration of every function its outputs name.
func Load(ctx context.Context, cfg aws.Config, stack string) (*Deployment, error) {
	cf := cloudformation.NewFromConfig(cfg)
	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist") {
			return nil, fmt.Errorf("%w: %s in %s", ErrNotFound, stack, cfg.Region)
		}
		return nil, fmt.Errorf("read stack %s in %s: %w", stack, cfg.Region, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("%w: %s in %s", ErrNotFound, stack, cfg.Region)
	}
	s := out.Stacks[0]
	d := &Deployment{
		Stack: stack, Region: cfg.Region, StackID: aws.ToString(s.StackId), Status: string(s.StackStatus),
		Outputs: map[string]string{}, Parameters: map[string]string{}, Functions: map[string]*Function{}, Config: cfg,
	}
	lc := lambda.NewFromConfig(cfg)
	d.Layers = lc
	if parts := strings.Split(d.StackID, ":"); len(parts) > 4 {
		d.Account = parts[4]
	}
	for _, o := range s.Outputs {
		d.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range s.Parameters {
		v := aws.ToString(p.ParameterValue)
		if p.ResolvedValue != nil {
			v = aws.ToString(p.ResolvedValue)
		}
		d.Parameters[aws.ToString(p.ParameterKey)] = v
	}
	names := map[string]string{Watchdog: d.Outputs[naming.OutputWatchdogFunction]}
	for _, sink := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		names[sink] = d.Outputs[naming.OutputFunctionName(sink)]
	}
	for sink, name := range names {
		if name == "" {
			continue
		}
		fn, err := readFunction(ctx, lc, sink, name)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", stack, err)
		}
		d.Functions[sink] = fn
	}
	return d, nil
}

// readFunction reads one function's configuration.
func readFunction(ctx context.Context, lc *lambda.Client, sink, name string) (*Function, error) {
	c, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("read the %s function %s: %w", sink, name, err)
	}
	fn := &Function{
		Sink: sink, Name: aws.ToString(c.FunctionName), ARN: aws.ToString(c.FunctionArn), Role: aws.ToString(c.Role),
		Env: map[string]string{}, KMSKeyARN: aws.ToString(c.KMSKeyArn),
		State: string(c.State), LastUpdateStatus: string(c.LastUpdateStatus), StateReason: aws.ToString(c.StateReason),
		LogGroup: "/aws/lambda/" + aws.ToString(c.FunctionName),
	}
	if c.Environment != nil {
		for k, v := range c.Environment.Variables {
			fn.Env[k] = v
		}
	}
	for _, l := range c.Layers {
		fn.Layers = append(fn.Layers, aws.ToString(l.Arn))
	}
	if c.LoggingConfig != nil && aws.ToString(c.LoggingConfig.LogGroup) != "" {
		fn.LogGroup = aws.ToString(c.LoggingConfig.LogGroup)
	}
	return fn, nil
}

// Output returns the output called name ("" when the stack has none).
func (d *Deployment) Output(name string) string {
	if d == nil {
		return ""
	}
	return d.Outputs[name]
}

// Sinks lists the sinks whose function the stack deploys, sorted.
func (d *Deployment) Sinks() []string {
	var out []string
	for sink := range d.Functions {
		if sink != Watchdog {
			out = append(out, sink)
		}
	}
	slices.Sort(out)
	return out
}

// QuarantineRoot is the quarantine's root prefix: the stack's
// QuarantinePrefix output, else the one a function's environment implies
// (each function writes under <root>/<sink>), else the default.
func (d *Deployment) QuarantineRoot() string {
	if d == nil {
		return config.DefaultQuarantinePrefix
	}
	if p := d.Outputs[naming.OutputQuarantinePrefix]; p != "" {
		return strings.Trim(p, "/")
	}
	for _, sink := range d.Sinks() {
		if p := strings.Trim(d.Functions[sink].Env[config.EnvQuarantinePrefix], "/"); p != "" {
			return strings.TrimSuffix(p, "/"+sink)
		}
	}
	return config.DefaultQuarantinePrefix
}

// Getenv returns the configuration of sink's function as config.Load reads
// it: each LOGFAN_* variable set in the process (getenv) overrides the
// deployed function's, and a route table the stack packaged in a layer
// (LOGFAN_ROUTES_FILE=/opt/...) is fetched from the layer and given
// inline, so that a redrive routes exactly as the function does. A nil d,
// or a sink the stack does not deploy, gives getenv alone.
func (d *Deployment) Getenv(ctx context.Context, sink string, getenv func(string) string) (func(string) string, error) {
	var fn *Function
	if d != nil {
		fn = d.Functions[sink]
	}
	if fn == nil {
		return getenv, nil
	}
	deployed := map[string]string{}
	for k, v := range fn.Env {
		deployed[k] = v
	}
	if getenv(config.EnvRoutes) != "" || getenv(config.EnvRoutesFile) != "" {
		// The process names its own route table: the deployed one must not mix in.
		delete(deployed, config.EnvRoutes)
		delete(deployed, config.EnvRoutesFile)
	} else if file := deployed[config.EnvRoutesFile]; file != "" {
		text, err := d.LayerFile(ctx, fn, file)
		if err != nil {
			return nil, fmt.Errorf("the %s function's route table %s=%s: %w (never redriven without its routes: that would deliver to the default targets)", sink, config.EnvRoutesFile, file, err)
		}
		delete(deployed, config.EnvRoutesFile)
		deployed[config.EnvRoutes] = text
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return deployed[k]
	}, nil
}
