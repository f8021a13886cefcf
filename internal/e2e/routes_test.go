package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/routes"
)

// routedRegion is the routes' second CloudWatch Logs region (moto serves
// every region on one endpoint).
const routedRegion = "us-west-2"

// routedTable sends security logs to two targets of every sink, application
// logs to one (not the default one), drops health checks and, with its
// catch-all, the rest. siem is the second Firehose stream.
func routedTable(siem string) string {
	return fmt.Sprintf(`[
	  {"name": "security", "match": {"owners": ["111111111111"], "logGroups": ["/sec/**"]},
	   "to": ["s3", {"sink": "s3", "prefix": "audit"}, "firehose", {"sink": "firehose", "stream": %[1]q},
	          {"sink": "logs", "groupTemplate": "/rt-a/{owner}/{logGroup}"},
	          {"sink": "logs", "region": %[2]q, "groupTemplate": "/rt-b/{owner}/{logGroup}"}]},
	  {"name": "noise", "match": {"logGroups": ["/app/health-*"]}, "to": []},
	  {"name": "apps", "match": {"logGroups": ["/app/**"]},
	   "to": [{"sink": "s3", "prefix": "apps"}, {"sink": "firehose", "stream": %[1]q},
	          {"sink": "logs", "region": %[2]q, "groupTemplate": "/rt-b/{owner}/{logGroup}"}]},
	  {"name": "rest", "to": []}
	]`, siem, routedRegion)
}

// routedBatch is a Kinesis event of records from every route: 9
// records of 40 events.
func routedBatch() (events.KinesisEvent, map[string]routedEvent) {
	g := eventgen.New(42)
	now := time.Now().Add(-time.Hour)
	srcs := []eventgen.Source{
		{Owner: "111111111111", LogGroup: "/sec/cloudtrail", LogStream: "trail", Kind: eventgen.KindCloudTrail},
		{Owner: "222222222222", LogGroup: "/app/orders", LogStream: "a"},
		{Owner: "222222222222", LogGroup: "/app/health-probe", LogStream: "h"},
		{Owner: "111111111111", LogGroup: "/sec/guardduty", LogStream: "g"},
		{Owner: "333333333333", LogGroup: "/sec/cloudtrail", LogStream: "trail"}, // not the security owner: rest
		{Owner: "222222222222", LogGroup: "/app/orders", LogStream: "b"},
		{Owner: "444444444444", LogGroup: "/other", LogStream: "x"},
		{Owner: "111111111111", LogGroup: "/sec/cloudtrail", LogStream: "trail"},
		{Owner: "333333333333", LogGroup: "/app/payments/api", LogStream: "p"},
	}
	all := map[string]routedEvent{}
	var datas [][]byte
	for i, src := range srcs {
		m := g.Message(src, 40, now.Add(time.Duration(i)*time.Second), time.Millisecond, 0)
		for _, e := range m.LogEvents {
			all[e.ID] = routedEvent{owner: m.Owner, group: m.LogGroup, stream: m.LogStream, message: e.Message}
		}
		datas = append(datas, eventgen.MustPayload(m))
	}
	return invocation.NewKinesisEvent(invocation.Stream{}, datas), all
}

type routedEvent struct{ owner, group, stream, message string }

// owedPerTarget computes from the table which event IDs each target of
// kind is owed, by target name.
func owedPerTarget(tbl *routes.Table, kind string, all map[string]routedEvent) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, t := range tbl.Targets(kind) {
		out[t.Name()] = map[string]bool{}
	}
	for id, e := range all {
		r := tbl.Match(routes.Record{Owner: e.owner, LogGroup: e.group, LogStream: e.stream})
		if r < 0 {
			continue
		}
		for _, t := range tbl.Routes()[r].To {
			if t.Sink == kind {
				out[t.Name()][id] = true
			}
		}
	}
	return out
}

// outage fails every request to one target while on, the way a throttled
// or unreachable service does, so the sink retries until its deadline and
// Lambda retries the batch.
type outage struct {
	mu     sync.Mutex
	on     bool
	hits   int
	target func(req *http.Request, body []byte) bool
}

func (o *outage) set(on bool) {
	o.mu.Lock()
	o.on = on
	o.mu.Unlock()
}

func (o *outage) inject(req *http.Request, body []byte, _ int) (*http.Response, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.on || !o.target(req, body) {
		return nil, nil
	}
	o.hits++
	if faults.Target(req) != "" {
		return faults.JSONError(400, "ThrottlingException", "Rate exceeded"), nil
	}
	return faults.XMLError(503, "SlowDown", "Please reduce your request rate."), nil
}

// TestRoutedTargetsLoseNothing runs each sink's real handler with a route
// table naming several targets of it, through an outage of one target:
// invoke, re-invoke from each batchItemFailure as Lambda does, then count
// that every event landed in each target its route names, and only there.
func TestRoutedTargetsLoseNothing(t *testing.T) {
	c := emutest.Clients(t, srv)
	ctx := context.Background()
	west := cloudwatchlogs.NewFromConfig(emutest.Config(t, srv, routedRegion))
	batch, all := routedBatch()

	for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		t.Run(sinkName, func(t *testing.T) {
			names := localenv.DefaultNames().WithSuffix("-routes-" + sinkName)
			siem := names.FirehoseStream + "-siem"
			rec, err := localenv.SetupRecipient(ctx, c, names)
			if err != nil {
				t.Fatal(err)
			}
			if err := localenv.CreateFirehoseStream(ctx, c, rec.RoleARN, siem, names.FirehoseBucket, "siem"); err != nil {
				t.Fatal(err)
			}
			env := names.Env(sinkName)
			env[config.EnvRoutes] = routedTable(siem)
			env[config.EnvDeliveryTimeout] = "2s" // the outage costs two seconds, not the whole invocation
			cfg, err := config.Load(sinkName, getenv(env))
			if err != nil {
				t.Fatal(err)
			}
			// The outage hits the second target of the sink's kind.
			o := &outage{target: map[string]func(*http.Request, []byte) bool{
				config.SinkS3:       func(r *http.Request, _ []byte) bool { return strings.Contains(r.URL.Path, "/audit/") },
				config.SinkFirehose: func(_ *http.Request, b []byte) bool { return strings.Contains(string(b), fmt.Sprintf("%q", siem)) },
				config.SinkLogs: func(r *http.Request, _ []byte) bool {
					return strings.Contains(r.Header.Get("Authorization"), "/"+routedRegion+"/logs/")
				},
			}[sinkName]}
			h, err := anysink.NewHandler(ctx, cfg, app.Deps{
				Logger: slog.New(slog.DiscardHandler), HTTPClient: &http.Client{Transport: &faults.Transport{Inject: o.inject}},
			}, nil)
			if err != nil {
				t.Fatal(err)
			}

			ev, invocations := batch, 0
			o.set(true)
			for {
				invocations++
				if invocations == 2 {
					o.set(false) // the target recovers; Lambda's retry delivers
				}
				if invocations > 6 {
					t.Fatalf("still failing after %d invocations", invocations-1)
				}
				retryFrom := invokeOnce(t, h, ev)
				if retryFrom == "" {
					break
				}
				ev = suffix(ev, retryFrom)
			}
			if invocations < 2 || o.hits == 0 {
				t.Fatalf("the outage forced no retry (%d invocations, %d requests failed): the test proves nothing", invocations, o.hits)
			}

			t.Logf("%s: %d invocations, %d requests to the failing target refused", sinkName, invocations, o.hits)
			var keysBefore []string
			if sinkName == config.SinkS3 {
				// Re-invoking the whole batch overwrites every target's objects.
				if keysBefore, err = readback.Keys(ctx, c.S3, names.DataBucket, ""); err != nil {
					t.Fatal(err)
				}
				if retryFrom := invokeOnce(t, h, batch); retryFrom != "" {
					t.Fatalf("re-invocation: retry from %s", retryFrom)
				}
			}

			owed := owedPerTarget(cfg.Routes, sinkName, all)
			if len(owed) < 2 {
				t.Fatalf("the table names %d %s targets, want several", len(owed), sinkName)
			}
			landed := readTargets(ctx, t, c, west, names, siem, sinkName, all)
			for target, want := range owed {
				got := landed[target]
				lost, extra := 0, 0
				for id := range want {
					if got[id] == 0 {
						lost++
					}
				}
				for id := range got {
					if !want[id] {
						extra++
					}
				}
				t.Logf("%s: owed %d events, landed %d distinct, lost %d, not owed %d", target, len(want), len(got), lost, extra)
				if len(want) == 0 || lost != 0 || extra != 0 {
					t.Errorf("target %s: %d of %d owed events lost, %d landed that it is not owed", target, lost, len(want), extra)
				}
				if sinkName == config.SinkS3 {
					// Deterministic keys per target: the retry overwrote, it duplicated nothing.
					for id, n := range got {
						if n != 1 {
							t.Errorf("target %s: event %s landed %d times", target, id, n)
							break
						}
					}
				}
			}
			if sinkName == config.SinkS3 {
				checkS3Layout(ctx, t, c, names.DataBucket)
				keysAfter, err := readback.Keys(ctx, c.S3, names.DataBucket, "")
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(keysBefore, keysAfter) {
					t.Errorf("re-invoking changed the objects: %d keys before, %d after", len(keysBefore), len(keysAfter))
				}
			}
		})
	}
}

// invokeOnce invokes h with ev and returns the sequence number Lambda must retry from, or "".
func invokeOnce(t *testing.T, h lambda.Handler, ev events.KinesisEvent) string {
	t.Helper()
	failures := invokeEvent(t, h, ev, 30*time.Second)
	switch len(failures) {
	case 0:
		return ""
	case 1:
		return failures[0].ItemIdentifier
	}
	t.Fatalf("batchItemFailures %+v: want at most one", failures)
	return ""
}

// readTargets reads back what landed in each target of sinkName, as counts per event ID by target name.
func readTargets(ctx context.Context, t *testing.T, c *localenv.Clients, west *cloudwatchlogs.Client, names localenv.Names, siem, sinkName string, all map[string]routedEvent) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	fromS3 := func(target, bucket, prefix string) {
		recs, _, err := readback.Records(ctx, c.S3, bucket, prefix+"/")
		if err != nil {
			t.Fatal(err)
		}
		out[target] = map[string]int{}
		for _, r := range recs {
			if all[r.ID].message != r.Message {
				t.Fatalf("%s: event %s landed with another message", target, r.ID)
			}
			out[target][r.ID]++
		}
	}
	byMessage := map[string]string{}
	for id, e := range all {
		byMessage[e.message] = id
	}
	fromLogs := func(target string, client *cloudwatchlogs.Client, tmpl string) {
		prefix, _, _ := strings.Cut(tmpl, "{")
		evs, err := readback.LogEvents(ctx, client, prefix)
		if err != nil {
			t.Fatal(err)
		}
		out[target] = map[string]int{}
		for _, e := range evs {
			id, ok := byMessage[e.Message]
			if !ok {
				t.Fatalf("%s: unknown event %q in %s", target, e.Message, e.Group)
			}
			if e0 := all[id]; e.Group != config.Expand(tmpl, e0.owner, e0.group, e0.stream) {
				t.Fatalf("%s: event %s in group %s, want the target's template %s", target, id, e.Group, tmpl)
			}
			out[target][id]++
		}
	}
	switch sinkName {
	case config.SinkS3:
		fromS3("s3", names.DataBucket, config.DefaultS3Prefix)
		fromS3("s3:audit", names.DataBucket, "audit")
		fromS3("s3:apps", names.DataBucket, "apps")
	case config.SinkFirehose:
		fromS3("firehose", names.FirehoseBucket, localenv.FirehosePrefix)
		fromS3("firehose:"+siem, names.FirehoseBucket, "siem")
	case config.SinkLogs:
		fromLogs("logs:/rt-a/{owner}/{logGroup}", c.LogsTarget, "/rt-a/{owner}/{logGroup}")
		fromLogs("logs:"+routedRegion+":/rt-b/{owner}/{logGroup}", west, "/rt-b/{owner}/{logGroup}")
	}
	return out
}

// checkS3Layout: a second prefix keeps the default prefix's partition
// layout: the security records' keys under audit/ are their keys under
// logs/ with the other prefix.
func checkS3Layout(ctx context.Context, t *testing.T, c *localenv.Clients, bucket string) {
	t.Helper()
	strip := func(prefix string) []string {
		keys, err := readback.Keys(ctx, c.S3, bucket, prefix+"/")
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			keys[i] = strings.TrimPrefix(k, prefix+"/")
		}
		slices.Sort(keys)
		return keys
	}
	def, audit := strip(config.DefaultS3Prefix), strip("audit")
	if len(def) == 0 || !slices.Equal(def, audit) {
		t.Errorf("keys under audit/ do not mirror those under %s/:\n%q\n%q", config.DefaultS3Prefix, def, audit)
	}
}
