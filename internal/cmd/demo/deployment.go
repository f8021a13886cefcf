package demo

import (
	"context"
	"strconv"
	"strings"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/logfan/logfan/internal/devkit/deployed"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
)

// watchdogKey is the watchdog's key among the registered functions
// (internal/ops/deployment's Watchdog).
const watchdogKey = "watchdog"

// RegisterDeployment registers on the emulator what the recipient stack
// would show the operator commands after this run, under n.Stack: the
// stack's parameters and outputs, each sink's function with the
// environment its handler ran with (and the watchdog with its
// expectations), and the sinks' event source mappings on the stream. Then
// `logfan doctor`, `redrive`, `quarantine` and `senders` find the demo's
// resources by the stack's name, as they find a deployment's. It runs after
// the records are consumed: moto tries to invoke a mapped function (in
// Docker) for every record put into its stream.
func RegisterDeployment(ctx context.Context, c *localenv.Clients, rec *localenv.Recipient, n localenv.Names, sinks []string, routes string) (*deployed.Registered, error) {
	var accounts []string
	for _, s := range DemoSenders(localenv.AccountOf(rec.StreamARN)) {
		accounts = append(accounts, s.Account)
	}
	st := deployed.Stack{
		Name: n.Stack,
		Parameters: map[string]string{
			naming.ParamSenderAccounts: strings.Join(accounts, ","), naming.ParamSenderOrganizationID: "", naming.ParamSenderOrganizationPaths: "",
		},
		Outputs: map[string]string{
			naming.OutputStreamName: n.Stream, naming.OutputDestinationARN: rec.DestinationARN, naming.OutputDestinationRoleARN: rec.RoleARN,
			naming.OutputQuarantineBucket: n.QuarantineBucket, naming.OutputQuarantinePrefix: config.DefaultQuarantinePrefix,
			naming.OutputDataBucket: n.DataBucket, naming.OutputFirehoseStream: n.FirehoseStream,
		},
		StreamARN: rec.StreamARN, OnFailureBucket: n.OnFailureBucket,
		Mapping: deployed.Mapping{
			BatchSize: localenv.BatchSize, BatchWindowSeconds: 5, RetryAttempts: localenv.RetryAttempts, MaxRecordAgeSeconds: 21600,
			ParallelizationFactor: 1, StartingPosition: "TRIM_HORIZON",
		},
	}
	if n.LedgerTable != "" {
		st.Outputs[naming.OutputLedgerTable] = n.LedgerTable
	}
	if n.HealthTable != "" {
		st.Outputs[naming.OutputHealthTable] = n.HealthTable
	}
	first := true
	for _, sink := range sinks {
		if sink != config.SinkS3 && sink != config.SinkFirehose && sink != config.SinkLogs {
			continue // stdout: no function deploys it
		}
		env := n.Env(sink)
		env[config.EnvHeartbeatLogGroup] = config.DefaultHeartbeatLogGroup
		if routes != "" {
			env[config.EnvRoutes] = routes
		}
		if first && n.HealthTable != "" {
			// The first sink's handler writes sender health, as in the stack.
			env[config.EnvHealthTable] = n.HealthTable
		}
		first = false
		st.Functions = append(st.Functions, deployed.Function{
			Key: sink, Name: n.FunctionName(sink), Output: naming.OutputFunctionName(sink), Env: env, Mapping: true,
		})
	}
	if n.HealthTable != "" {
		st.Functions = append(st.Functions, deployed.Function{
			Key: watchdogKey, Name: n.FunctionPrefix + "WatchdogFunction", Output: naming.OutputWatchdogFunction,
			Env: map[string]string{
				config.EnvHealthTable: n.HealthTable, config.EnvSenderMode: config.SenderModeAccounts,
				config.EnvExpectedAccounts: strings.Join(accounts, ","), config.EnvExpectedRegions: localenv.Region,
				config.EnvHeartbeatMinutes:       strconv.Itoa(config.DefaultHeartbeatMinutes),
				config.EnvSilentAfterMinutes:     strconv.Itoa(config.DefaultSilentAfterMinutes),
				config.EnvForgetSendersAfterDays: strconv.Itoa(config.DefaultForgetSendersAfterDays),
			},
		})
	}
	return deployed.Register(ctx, deployed.NewClients(c.Config), st)
}
