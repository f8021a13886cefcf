package quarantine

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/devkit/deployed"
	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
	"github.com/logfan/logfan/shared/record"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil, {"purge"}, {"list", "k"}, {"show"}, {"show", "a", "b"}, {"delete"}, {"delete", "-all", "k"},
		{"list", "-all"}, {"list", "-sink", "kafka"}, {"list", "-nope"},
	} {
		if err := run(context.Background(), args, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}); !usage.Is(err) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestQuarantineOnMoto: list, show and delete the entries of a stack
// found by name, as an operator would after `logfan doctor` pointed at them.
func TestQuarantineOnMoto(t *testing.T) {
	cfg := emutest.Config(t, srv, emulator.Region)
	ctx := context.Background()
	const bucket, root = "quarantine-cmd", "jail"
	s3c := awsclient.S3(cfg)
	emutest.Buckets(t, s3c, bucket)
	if _, err := deployed.Register(ctx, deployed.NewClients(cfg), deployed.Stack{Name: "QuarantineCmd",
		Outputs: map[string]string{naming.OutputQuarantineBucket: bucket, naming.OutputQuarantinePrefix: root}}); err != nil {
		t.Fatal(err)
	}
	put := func(prefix string, e quarantine.Entry) {
		t.Helper()
		if err := s3quarantine.New(s3c, config.Quarantine{Bucket: bucket, Prefix: prefix}).Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	m := eventgen.New(1).Message(eventgen.Source{Owner: "111111111111", LogGroup: "/app/x", LogStream: "s"}, 3, time.Now(), time.Millisecond, 0)
	put(root+"/s3", quarantine.Entry{Kind: quarantine.KindRecord, Shard: "shardId-000000000000", SequenceNumber: "11", Reason: "not gzip: input starts with 6e6f", Data: []byte("not gzip at all")})
	put(root+"/s3", quarantine.Entry{Kind: quarantine.KindRecord, Shard: "shardId-000000000000", SequenceNumber: "12", Reason: "route failed", Data: eventgen.MustPayload(m)})
	put(root+"/logs", quarantine.Entry{Kind: quarantine.KindEvent, Sink: "logs", Shard: "shardId-000000000001", SequenceNumber: "13", Event: 1,
		EventID: m.LogEvents[1].ID, Reason: "tooOld: older than 14 days", Data: record.AppendLine(nil, m, &m.LogEvents[1])})
	put(root, quarantine.Entry{Kind: quarantine.KindEvent, Sink: "firehose", Shard: "shardId-000000000001", SequenceNumber: "14", Reason: "old shared layout", Data: record.AppendLine(nil, m, &m.LogEvents[0])})

	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(args[:1:1], append([]string{"-stack", "QuarantineCmd", "-region", emulator.Region}, args[1:]...)...), func(string) string { return "" }, &out, &errOut)
		return out.String(), err
	}
	// list: every entry, with its reason
	out, err := cli("list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"jail/s3/record/", "jail/logs/event/", "jail/event/", "tooOld: older than 14 days", "4 entries in s3://quarantine-cmd (2 records, 2 events)"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	// list -sink logs -json: the logs function's entries, not firehose's refusal in the shared layout
	out, err = cli("list", "-sink", "logs", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) != 1 || entries[0].Sink != "logs" || entries[0].Reason != "tooOld: older than 14 days" {
		t.Fatalf("list -sink logs -json: %v %+v\n%s", err, entries, out)
	}
	// show: an undecodable record in hex, a decodable one decoded, an event's line
	keys, err := readback.Keys(ctx, s3c, bucket, root+"/s3/record/")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v %v", keys, err)
	}
	out, err = cli("show", keys[0])
	if err != nil || !strings.Contains(out, "decoded:   no:") || !strings.Contains(out, "not gzip at all") {
		t.Errorf("show undecodable (%v):\n%s", err, out)
	}
	out, err = cli("show", keys[1])
	if err != nil || !strings.Contains(out, "DATA_MESSAGE from 111111111111, /app/x / s, 3 events") {
		t.Errorf("show decodable (%v):\n%s", err, out)
	}
	out, err = cli("show", entries[0].Key)
	if err != nil || !strings.Contains(out, `"logGroup":"/app/x"`) || !strings.Contains(out, "event:     1") {
		t.Errorf("show event (%v):\n%s", err, out)
	}
	// delete: a key outside the quarantine is refused, nothing deleted
	if _, err := cli("delete", "aws/lambda/x/y"); !usage.Is(err) {
		t.Errorf("delete outside the quarantine: %v", err)
	}
	// delete one key, then the s3 function's whole lot with -all -sink s3
	if out, err := cli("delete", keys[0]); err != nil || !strings.Contains(out, "1 entries deleted") {
		t.Errorf("delete (%v):\n%s", err, out)
	}
	if out, err := cli("delete", "-all", "-sink", "s3"); err != nil || !strings.Contains(out, "1 entries deleted") {
		t.Errorf("delete -all -sink s3 (%v):\n%s", err, out)
	}
	left, err := readback.Keys(ctx, s3c, bucket, root+"/")
	if err != nil || len(left) != 2 {
		t.Errorf("left %v %v, want the logs and shared-layout entries", left, err)
	}
}
