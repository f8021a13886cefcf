package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink/logssink"
)

// countingTransport answers nothing: every request it sees is counted and
// fails as a refused connection would.
type countingTransport struct{ calls atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
}

// TestEndpointErrorEndsTheInvocationAtOnce: a setting no check caught (a
// region that is no host name) fails every call before a request is sent.
// The handler's SDK clients mark such errors, so the sink gives up at once
// and the batch is reported for Lambda's retry, instead of retrying the
// same failure until the invocation's deadline.
func TestEndpointErrorEndsTheInvocationAtOnce(t *testing.T) {
	cfg, err := config.Load(config.SinkLogs, getenv(map[string]string{config.EnvLogsRegion: "eu-west-1", config.EnvQuarantineBucket: "quarantine"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logs.Region = "not a region" // as if it had passed the cold start
	tr := &countingTransport{}
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	var sum consumer.Summary
	h, err := app.NewHandler(cfg, awsCfg, logssink.Build, app.Deps{
		Logger: slog.New(slog.DiscardHandler), Quarantine: &quarantine.Memory{}, HTTPClient: &http.Client{Transport: tr},
		OnSummary: func(s consumer.Summary) { sum = s },
	})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(invocation.NewKinesisEvent(invocation.Stream{}, benchinput.Payloads(7, 3, 5, eventgen.KindApp)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "r"})
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.calls.Load(); n != 0 {
		t.Errorf("%d requests sent to an endpoint that cannot be resolved", n)
	}
	if sum.Retried != 0 || sum.RetryFrom == "" || !strings.Contains(sum.Err, "before any request was sent") {
		t.Errorf("summary %+v: want no retries, the batch reported, and the cause", sum)
	}
	if !strings.Contains(string(out), "batchItemFailures") {
		t.Errorf("response %s reports no batch item failure", out)
	}
}
