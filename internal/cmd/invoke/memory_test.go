package invoke

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/internal/devkit/benchinput"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/subscription"
)

// smallestMemoryMB is the smallest functionMemoryMB the stack accepts.
const smallestMemoryMB = 128

// TestWorstPayloadFitsTheSmallestMemory runs the S3 function's real
// bootstrap at the smallest memory size the stack allows, with the
// GOMEMLIMIT the stack sets for it, on the worst payload its decompression
// cap lets through (a record that inflates to just under the cap, of short
// events: the most records to build), then on one that inflates to just
// under the old fixed 64 MiB cap, then on a batch of eight records near the
// cap. The first is delivered, the second quarantined as too large for this
// memory, the batch delivered over several invocations (retried from where
// each stopped, as Lambda does), and the bootstrap's peak resident set
// (VmHWM) stays under the function's memory: with the 64 MiB cap the second
// payload was decoded and the process peaked at 183 MiB.
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
		ev, err := invocation.KinesisEventJSON(invocation.Stream{}, [][]byte{c.payload})
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
	// A batch of records near the cap: held together they would need many
	// times the memory; the function takes what the cap allows and leaves
	// the rest to the next invocation, from which Lambda retries.
	near := benchinput.NearCapPayload(limit, 1000)
	batch := make([][]byte, 8)
	for i := range batch {
		batch[i] = near
	}
	ev := invocation.NewKinesisEvent(invocation.Stream{}, batch)
	recs, invocations, delivered := ev.Records, 0, 0
	for len(recs) > 0 && invocations < 20 {
		payload, err := json.Marshal(events.KinesisEvent{Records: recs})
		if err != nil {
			t.Fatal(err)
		}
		before := len(logs.String())
		res, err := rt.Invoke(context.Background(), payload)
		if err != nil || res.FunctionError || res.TimedOut {
			t.Fatalf("batch: %v %s\n%s", err, res.Response, logs.String()[before:])
		}
		invocations++
		m := regexp.MustCompile(`delivered=(\d+) `).FindStringSubmatch(logs.String()[before:])
		if m == nil {
			t.Fatalf("no summary line:\n%s", logs.String()[before:])
		}
		n, _ := strconv.Atoi(m[1])
		delivered += n
		var resp events.KinesisEventResponse
		if err := json.Unmarshal(res.Response, &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) == 0 {
			break
		}
		for i := range recs {
			if recs[i].Kinesis.SequenceNumber == resp.BatchItemFailures[0].ItemIdentifier {
				recs = recs[i:]
				break
			}
		}
	}
	if want := 8 * countEvents(t, near); delivered != want {
		t.Errorf("the batch of 8 records near the cap: %d events delivered in %d invocations, want %d", delivered, invocations, want)
	}
	peak := rt.PeakRSS()
	t.Logf("the batch of 8 records near the cap took %d invocations", invocations)
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
