package e2e

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// invoke sends payload, a Kinesis event, through h as the Lambda runtime
// would, within timeout (0: no bound but the test's), and returns the
// records Lambda must retry from. what names the payload in a failure.
func invoke(t *testing.T, h lambda.Handler, what string, payload []byte, timeout time.Duration) []events.KinesisBatchItemFailure {
	t.Helper()
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	out, err := lambda.NewHandler(h).Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s: response %s: %v", what, out, err)
	}
	return resp.BatchItemFailures
}

// invokeEvent is invoke with ev.
func invokeEvent(t *testing.T, h lambda.Handler, ev events.KinesisEvent, timeout time.Duration) []events.KinesisBatchItemFailure {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return invoke(t, h, "invoke", payload, timeout)
}

// lostAndDuplicates counts the event IDs of want that landed nowhere and
// the copies beyond the first of those that landed more than once; got
// counts the copies by ID.
func lostAndDuplicates[V any](want map[string]V, got map[string]int) (lost, dups int) {
	for id := range want {
		switch n := got[id]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	return lost, dups
}
