package invoke

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/subscription"
)

// smallestMemoryMB is the smallest functionMemoryMB the stack accepts.
const smallestMemoryMB = 128

// TestWorstPayloadFitsTheSmallestMemory runs the S3 function's real
// bootstrap at the smallest memory size the stack allows, with the
// GOMEMLIMIT the stack sets for it, on the worst payload its decompression
// cap lets through (a record that inflates to just under the cap, of short
// events: the most records to build), then on one that inflates to just
// under the old fixed 64 MiB cap. The first is delivered, the second
// quarantined as too large for this memory, and the bootstrap's peak
// resident set (VmHWM) stays under the function's memory: with the 64 MiB
// cap the second payload was decoded and peaked at 133-149 MB.
func TestWorstPayloadFitsTheSmallestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds payloads of tens of MB")
	}
	const id, stack = "S3Function", "memfloor"
	_, f, env, names := resolve(t, id, stack, map[string]string{config.EnvGoMemLimit: config.GoMemLimit(smallestMemoryMB)})
	fnEnv := map[string]string{}
	for _, kv := range srv.Env(emulator.Region) {
		k, v, _ := strings.Cut(kv, "=")
		fnEnv[k] = v
	}
	for k, v := range env {
		fnEnv[k] = v
	}
	logs := &syncBuffer{}
	// The runtime sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE, from which the
	// function derives its cap, as Lambda does.
	rt, err := StartRuntime(context.Background(), RuntimeConfig{
		RIE: rie(t), Bootstrap: bootstrapFor(t, config.SinkS3), FunctionName: stack + "-" + id, Env: fnEnv,
		MemoryMB: smallestMemoryMB, TimeoutSeconds: f.TimeoutSeconds, Logs: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Stop()
	limit := config.MaxDecompressedFor(smallestMemoryMB)
	for _, c := range []struct {
		name    string
		payload []byte
		poison  bool
	}{
		{"at the cap", benchinput.NearCapPayload(limit, 120), false},
		// Longer events: 64 MiB of 120-byte ones compress to more than a record holds.
		{"at the old 64 MiB cap", benchinput.NearCapPayload(subscription.DefaultMaxDecompressed, 1000), true},
	} {
		if len(c.payload) > benchinput.MaxKinesisRecord {
			t.Fatalf("%s: a %d-byte payload is no Kinesis record", c.name, len(c.payload))
		}
		ev, err := eventgen.KinesisEventJSON(eventgen.Stream{}, [][]byte{c.payload})
		if err != nil {
			t.Fatal(err)
		}
		before := len(logs.String())
		res, err := rt.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.KinesisEventResponse
		if res.Failed() || json.Unmarshal(res.Response, &resp) != nil {
			t.Fatalf("%s: the invocation failed: %s\n%s", c.name, res.Response, logs.String())
		}
		// The invocation's summary line: every event delivered, or the
		// record quarantined (poison: it inflates past the cap).
		line := logs.String()[before:]
		want := "delivered=" + strconv.Itoa(countEvents(t, c.payload)) + " "
		if c.poison {
			want = "poisonRecords=1 "
		}
		if !strings.Contains(line, want) {
			t.Errorf("%s: the summary lacks %q:\n%s", c.name, want, line)
		}
	}
	peak := rt.PeakRSS()
	t.Logf("peak RSS %.1f MiB at %d MB (GOMEMLIMIT=%s, cap %d MiB); data bucket %s", float64(peak)/(1<<20), smallestMemoryMB, config.GoMemLimit(smallestMemoryMB), limit>>20, names.DataBucket)
	if peak >= smallestMemoryMB<<20 {
		t.Errorf("peak RSS %.1f MiB reaches the function's %d MB", float64(peak)/(1<<20), smallestMemoryMB)
	}
}

// countEvents counts a payload's log events.
func countEvents(t *testing.T, payload []byte) int {
	t.Helper()
	m, err := subscription.NewDecoder(1 << 30).Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	return len(m.LogEvents)
}
