package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/internal/ops/quarantined"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/record"
)

// sampleEvents are the committed sample events (events/*.json).
func sampleEvents(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("sample events: %v %v", files, err)
	}
	var out []string
	for _, f := range files {
		if filepath.Base(f) != "expected.json" {
			out = append(out, f)
		}
	}
	return out
}

// rebased copies the sample events with timestamps shifted to now (CloudWatch
// Logs rejects events older than 14 days), once for the whole test.
func rebased(t *testing.T, files []string) []string {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	var out []string
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if payload, err = eventgen.Rebase(payload, now); err != nil {
			t.Fatalf("rebase %s: %v", f, err)
		}
		dst := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(dst, payload, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, dst)
	}
	return out
}

// invokeAll sends every file through h as the Lambda runtime would and
// fails the test if Lambda would have to retry anything.
func invokeAll(t *testing.T, h lambda.Handler, files []string) {
	t.Helper()
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if failures := invoke(t, h, f, payload, 60*time.Second); len(failures) != 0 {
			t.Fatalf("%s: batchItemFailures %+v", f, failures)
		}
	}
}

// expected replays the files through the stdout sink: the records every other sink must hold.
func expected(t *testing.T, files []string) []record.Event {
	t.Helper()
	pr, pw := io.Pipe()
	cfg, err := config.Load(config.SinkStdout, getenv(nil))
	if err != nil {
		t.Fatal(err)
	}
	h, err := anysink.NewHandler(context.Background(), cfg, app.Deps{Logger: slog.New(slog.DiscardHandler)}, pw)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []record.Event)
	go func() {
		recs, err := readback.Decode(pr)
		if err != nil {
			t.Error(err)
		}
		done <- recs
	}()
	invokeAll(t, h, files)
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	return <-done
}

// newHandler creates the recipient's resources under names on the emulator
// and builds sinkName's real handler with the environment the stack sets.
func newHandler(t *testing.T, c *localenv.Clients, names localenv.Names, sinkName string, d app.Deps) lambda.Handler {
	t.Helper()
	return newHandlerEnv(t, c, names, sinkName, names.Env(sinkName), d)
}

// newHandlerEnv is newHandler with the function's environment given.
func newHandlerEnv(t *testing.T, c *localenv.Clients, names localenv.Names, sinkName string, env map[string]string, d app.Deps) lambda.Handler {
	t.Helper()
	ctx := context.Background()
	if _, err := localenv.SetupRecipient(ctx, c, names); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(sinkName, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	h, err := anysink.NewHandler(ctx, cfg, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func keyOf(r record.Event) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// sameRecords asserts got holds exactly want, each once.
func sameRecords(t *testing.T, sink string, want, got []record.Event) {
	t.Helper()
	count := map[string]int{}
	for _, r := range want {
		count[keyOf(r)]++
	}
	for _, r := range got {
		count[keyOf(r)]--
	}
	missing, extra := 0, 0
	for k, n := range count {
		if n > 0 {
			missing += n
			t.Logf("%s missing: %s", sink, k)
		} else if n < 0 {
			extra -= n
			t.Logf("%s extra: %s", sink, k)
		}
	}
	if missing != 0 || extra != 0 || len(got) != len(want) {
		t.Fatalf("%s: want %d records exactly once, got %d (%d missing, %d extra)", sink, len(want), len(got), missing, extra)
	}
}

// samplesGroupTemplate is where TestSampleEventsThroughEverySink's logs
// handler writes: a root of its own, so that reading back every group under
// it finds only this test's events, whatever the other suites wrote before.
const samplesGroupTemplate = "/logfan-samples/" + config.PlaceholderOwner + "/" + config.PlaceholderLogGroup

// TestSampleEventsThroughEverySink delivers every committed sample event
// through each sink and reads back exactly the expected records.
func TestSampleEventsThroughEverySink(t *testing.T) {
	c := emutest.Clients(t, srv)
	ctx := context.Background()
	files := rebased(t, sampleEvents(t))
	want := expected(t, files)
	if len(want) == 0 {
		t.Fatal("no expected records")
	}

	for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		t.Run(sinkName, func(t *testing.T) {
			names := localenv.DefaultNames().WithSuffix("-app-" + sinkName)
			env := names.Env(sinkName)
			if sinkName == config.SinkLogs {
				env[config.EnvLogsGroupTemplate] = samplesGroupTemplate
			}
			h := newHandlerEnv(t, c, names, sinkName, env, app.Deps{Logger: slog.New(slog.DiscardHandler)})
			invokeAll(t, h, files)

			// Every poison record of the sample events is in the quarantine, with its reason.
			items, err := quarantined.List(ctx, c.S3, names.QuarantineBucket, config.DefaultQuarantinePrefix+"/")
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 7 {
				t.Errorf("quarantine holds %d items, want the 7 poison records of kinesis-poison.json", len(items))
			}
			for _, it := range items {
				if it.Entry.Reason == "" || len(it.Entry.Data) == 0 || it.Entry.SequenceNumber == "" {
					t.Errorf("quarantine item %s lacks reason, data or sequence number", it.Key)
				}
			}

			switch sinkName {
			case config.SinkS3:
				got, keys, err := readback.Records(ctx, c.S3, names.DataBucket, config.DefaultS3Prefix+"/")
				if err != nil {
					t.Fatal(err)
				}
				sameRecords(t, sinkName, want, got)
				// Re-invoking the same batches overwrites; it creates no object.
				invokeAll(t, h, files)
				again, keys2, err := readback.Records(ctx, c.S3, names.DataBucket, config.DefaultS3Prefix+"/")
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(keys, "\n") != strings.Join(keys2, "\n") {
					t.Fatalf("re-invoking changed the objects: %d keys before, %d after", len(keys), len(keys2))
				}
				sameRecords(t, sinkName+" (re-invoked)", want, again)
			case config.SinkFirehose:
				got, _, err := readback.Records(ctx, c.S3, names.FirehoseBucket, localenv.FirehosePrefix+"/")
				if err != nil {
					t.Fatal(err)
				}
				sameRecords(t, sinkName, want, got)
			case config.SinkLogs:
				got, err := readback.LogEvents(ctx, c.LogsTarget, "/logfan-samples/")
				if err != nil {
					t.Fatal(err)
				}
				var wantL, gotL []string
				for _, r := range want {
					group := config.Expand(samplesGroupTemplate, r.Owner, r.LogGroup, r.LogStream)
					wantL = append(wantL, fmt.Sprintf("%s|%s|%d|%s", group, r.LogStream, r.Timestamp, r.Message))
				}
				for _, e := range got {
					gotL = append(gotL, fmt.Sprintf("%s|%s|%d|%s", e.Group, e.Stream, e.Timestamp, e.Message))
				}
				sort.Strings(wantL)
				sort.Strings(gotL)
				if strings.Join(wantL, "\n") != strings.Join(gotL, "\n") {
					t.Fatalf("logs: want %d events exactly once, got %d\nwant %q\n got %q", len(wantL), len(gotL), wantL[:min(3, len(wantL))], gotL[:min(3, len(gotL))])
				}
			}
		})
	}
}
