// Package app wires a consumer handler from configuration: the SDK clients
// (built once, at cold start), the retry policy, the quarantine and the
// sink. The Lambda functions and the local tools share it, so a replay runs
// exactly the code a function runs.
package app

import (
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
	"github.com/logfan/logfan/shared/ledger"
	"github.com/logfan/logfan/shared/ledger/dynamoledger"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// Deps are what a handler needs besides configuration.
type Deps struct {
	// Logger gets one line per batch.
	Logger *slog.Logger
	// Metrics receives EMF documents (stdout in Lambda).
	Metrics io.Writer
	// Quarantine overrides the S3 quarantine (replay to stdout keeps entries in memory).
	Quarantine quarantine.Quarantine
	// OnSummary receives each invocation's summary.
	OnSummary func(consumer.Summary)
	// HTTPClient, if set, carries the SDK clients' requests (fault-injection tests).
	HTTPClient aws.HTTPClient
	// HealthTable, if set, is the sender-health table this handler writes
	// to when its configuration names none: the demo gives it to one of its
	// sinks, as the stack gives it to one function.
	HealthTable string
	// NoHealth leaves sender health out entirely, heartbeat recognition
	// included: the handler as it was before (the benchmarks' baseline).
	NoHealth bool
}

// Builder builds one kind of sink from the SDK configuration, logfan's
// configuration and the retry policy. Each sink package has one (Build), and
// a function's main names only its own, so its binary links no other sink's
// SDK client.
type Builder func(awsCfg aws.Config, cfg *config.Config, policy retry.Policy) (sink.Sink, error)

// NewHandler builds a handler around the sink build makes, with SDK clients
// from awsCfg. The SDK clients do not retry on their own: the retry policy
// is the one place retries happen (see package retry).
func NewHandler(cfg *config.Config, awsCfg aws.Config, build Builder, d Deps) (*consumer.Handler, error) {
	if d.HTTPClient != nil {
		awsCfg.HTTPClient = d.HTTPClient
	}
	awsCfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	// Errors raised before a request is sent (endpoint resolution,
	// validation) are told apart from the network's, and not retried.
	awsCfg.APIOptions = append(slices.Clip(awsCfg.APIOptions), retry.MarkNotSent)
	policy := retry.Default()
	if cfg.AttemptTimeout > 0 {
		policy.AttemptTimeout = cfg.AttemptTimeout
	}
	q := d.Quarantine
	switch {
	case q != nil:
	case cfg.Quarantine.Bucket == "":
		// Only the stdout sink may run without a bucket (config.Load checks).
		q = &quarantine.Memory{}
	default:
		q = s3quarantine.New(awsclient.S3(awsCfg), cfg.Quarantine)
	}
	s, err := buildRouted(awsCfg, cfg, build, policy)
	if err != nil {
		return nil, err
	}
	hc := cfg.Health
	if hc.Table == "" {
		hc.Table = d.HealthTable
	}
	var ddb *dynamodb.Client
	if cfg.Ledger.Table != "" || hc.Table != "" {
		ddb = dynamodb.NewFromConfig(awsCfg)
	}
	var l ledger.Store
	if cfg.Ledger.Table != "" {
		l = dynamoledger.New(ddb, cfg.Ledger.Table, cfg.Ledger.TTL)
	}
	o := consumer.Options{
		Sink: s, Routes: cfg.Routes, Quarantine: q, Retry: policy, MaxDecompressed: cfg.MaxDecompressed, DeliveryTimeout: cfg.DeliveryTimeout,
		Logger: d.Logger, Metrics: d.Metrics, OnSummary: d.OnSummary, Ledger: l, HubAccount: cfg.HubAccount,
	}
	if !d.NoHealth {
		o.Health = newHealth(hc, ddb)
	}
	return consumer.New(o), nil
}

// newHealth is the sender-health recorder: it always recognises the
// heartbeat log groups (config.DefaultHeartbeatLogGroup when none are
// configured), and writes to the table only when this function has one
// (the stack gives it to exactly one consumer function).
func newHealth(c config.Health, ddb *dynamodb.Client) *health.Recorder {
	o := health.RecorderOptions{HeartbeatLogGroups: c.HeartbeatLogGroups}
	if len(o.HeartbeatLogGroups) == 0 {
		o.HeartbeatLogGroups = []string{config.DefaultHeartbeatLogGroup}
	}
	if c.Table != "" {
		o.Writer = dynamohealth.New(ddb, c.Table)
	}
	return health.NewRecorder(o)
}

// buildRouted builds the function's sink: one sink for the default target,
// or, with routes, one per target of this sink kind behind a sink.Fanout
// (the stdout sink prints every routed record and stays one sink).
func buildRouted(awsCfg aws.Config, cfg *config.Config, build Builder, policy retry.Policy) (sink.Sink, error) {
	if cfg.Routes == nil || cfg.Sink == config.SinkStdout {
		s, err := build(awsCfg, cfg, policy)
		if err != nil {
			return nil, fmt.Errorf("build the %s sink: %w", cfg.Sink, err)
		}
		return s, nil
	}
	targets := cfg.Routes.Targets(cfg.Sink)
	names := make([]string, len(targets))
	sinks := make([]sink.Sink, len(targets))
	for i, t := range targets {
		s, err := build(awsCfg, cfg.ForTarget(t), policy)
		if err != nil {
			return nil, fmt.Errorf("build the %s sink for target %s: %w", cfg.Sink, t.Name(), err)
		}
		names[i], sinks[i] = t.Name(), s
	}
	return sink.NewFanout(cfg.Sink, names, sinks), nil
}
