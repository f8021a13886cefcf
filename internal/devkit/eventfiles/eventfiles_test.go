package eventfiles

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/shared/subscription"
)

var update = flag.Bool("update", false, "rewrite events/ from events/src instead of comparing")

const (
	eventsDir = "../../../events"
	srcDir    = "../../../events/src"
)

var (
	realOnce sync.Once
	realSet  *Set
	realErr  error
)

// realEvents generates the repository's sample events once per test binary.
func realEvents(t *testing.T) *Set {
	t.Helper()
	realOnce.Do(func() {
		m, err := LoadManifest(srcDir)
		if err != nil {
			realErr = err
			return
		}
		realSet, realErr = Generate(m)
	})
	if realErr != nil {
		t.Fatal(realErr)
	}
	return realSet
}

// TestCommittedFilesMatchInputs is the golden test: the committed events/
// files must be exactly what events/src generates.
func TestCommittedFilesMatchInputs(t *testing.T) {
	set := realEvents(t)
	if *update {
		st, err := set.Write(eventsDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Changed {
				t.Logf("updated events/%s", s.Path)
			}
		}
		return
	}
	if err := set.Check(eventsDir, srcDir); err != nil {
		t.Fatal(err)
	}
}

func TestDeterministic(t *testing.T) {
	for _, src := range []string{"testdata/basic", srcDir} {
		t.Run(src, func(t *testing.T) {
			dirs := [2]string{t.TempDir(), t.TempDir()}
			for i, d := range dirs {
				var set *Set
				if i == 0 && src == srcDir {
					set = realEvents(t) // one run of the real inputs is shared with the other tests
				} else {
					m, err := LoadManifest(src)
					if err != nil {
						t.Fatal(err)
					}
					if set, err = Generate(m); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := set.Write(d); err != nil {
					t.Fatal(err)
				}
			}
			a, b := readTree(t, dirs[0]), readTree(t, dirs[1])
			if len(a) == 0 || len(a) != len(b) {
				t.Fatalf("runs wrote %d and %d files", len(a), len(b))
			}
			for p, data := range a {
				if !bytes.Equal(data, b[p]) {
					t.Errorf("%s differs between two runs", p)
				}
			}
		})
	}
}

// TestFileSeedsAreIndependent checks that editing one file's records leaves
// the other files byte-identical, so a manifest change has a small diff.
func TestFileSeedsAreIndependent(t *testing.T) {
	raw, err := os.ReadFile("testdata/basic/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	base := generateRaw(t, raw)
	edited := generateRaw(t, bytes.Replace(raw, []byte(`"events": 4}`), []byte(`"events": 9}`), 1))
	if bytes.Equal(base.Output("two.json").Data, edited.Output("two.json").Data) {
		t.Fatal("editing two.json's records did not change it")
	}
	for _, p := range []string{"one.json", "direct.json", "generated/fill.json"} {
		if !bytes.Equal(base.Output(p).Data, edited.Output(p).Data) {
			t.Errorf("editing two.json changed %s", p)
		}
	}
}

func generateRaw(t *testing.T, raw []byte) *Set {
	t.Helper()
	m, err := ParseManifest("testdata/basic", raw)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEventsDecodeAsExpected decodes every event file independently of the
// generator (aws-lambda-go event types, compress/gzip, encoding/json) and
// checks each record and every count against the expectations files.
func TestEventsDecodeAsExpected(t *testing.T) {
	set := realEvents(t)
	for _, dir := range []string{".", generatedDir} {
		raw := set.Output(path.Join(dir, ExpectationsName))
		if raw == nil {
			t.Fatalf("no %s/%s generated", dir, ExpectationsName)
		}
		var exp Expectations
		if err := json.Unmarshal(raw.Data, &exp); err != nil {
			t.Fatal(err)
		}
		if exp.MaxDecompressed != subscription.DefaultMaxDecompressed {
			t.Errorf("%s: maxDecompressed %d", dir, exp.MaxDecompressed)
		}
		for _, fe := range exp.Files {
			t.Run(fe.Path, func(t *testing.T) {
				if fe.File != filepath.Base(fe.Path) {
					t.Errorf("file %q is not relative to %s/%s", fe.File, dir, ExpectationsName)
				}
				gen := set.Output(fe.Path).Data
				checkEventFile(t, gen, fe)
				if !Committed(fe.Path) {
					return
				}
				// Also check what is in git, should the golden test be failing too.
				disk, err := os.ReadFile(filepath.Join(eventsDir, filepath.FromSlash(fe.Path)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(disk, gen) {
					checkEventFile(t, disk, fe)
				}
			})
		}
	}
}

// rawRecord is one record as the event carries it.
type rawRecord struct {
	seq, eventID string
	data         []byte
}

func checkEventFile(t *testing.T, file []byte, fe FileExpectation) {
	t.Helper()
	if len(file) != fe.Bytes {
		t.Errorf("file is %d bytes, expectations say %d", len(file), fe.Bytes)
	}
	var recs []rawRecord
	switch fe.Event {
	case EventKinesis:
		var ev events.KinesisEvent
		if err := json.Unmarshal(file, &ev); err != nil {
			t.Fatalf("not a Lambda Kinesis event: %v", err)
		}
		prev := ""
		for i, r := range ev.Records {
			k := r.Kinesis
			if r.EventSource != "aws:kinesis" || r.EventName != "aws:kinesis:record" || r.EventSourceArn == "" || r.AwsRegion == "" ||
				k.KinesisSchemaVersion != "1.0" || k.PartitionKey == "" || k.ApproximateArrivalTimestamp.IsZero() {
				t.Errorf("record %d lacks fields Lambda always sends: %+v", i, r)
			}
			if !strings.HasPrefix(r.EventID, "shardId-") || !strings.HasSuffix(r.EventID, ":"+k.SequenceNumber) {
				t.Errorf("record %d: eventID %q is not <shard>:<sequence number>", i, r.EventID)
			}
			if len(k.SequenceNumber) != 56 || k.SequenceNumber <= prev {
				t.Errorf("record %d: sequence number %q not 56 digits increasing after %q", i, k.SequenceNumber, prev)
			}
			prev = k.SequenceNumber
			recs = append(recs, rawRecord{k.SequenceNumber, r.EventID, k.Data})
		}
	case EventAWSLogs:
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(file, &ev); err != nil || ev.AWSLogs.Data == "" {
			t.Fatalf("not a direct-subscription event: %v", err)
		}
		d, err := base64.StdEncoding.DecodeString(ev.AWSLogs.Data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ev.AWSLogs.Parse(); err != nil {
			t.Errorf("aws-lambda-go cannot parse the awslogs data: %v", err)
		}
		recs = append(recs, rawRecord{data: d})
	default:
		t.Fatalf("unknown event %q", fe.Event)
	}
	if len(recs) != len(fe.Records) || len(recs) != fe.Counts.Records {
		t.Fatalf("%d records in the file, %d described, count %d", len(recs), len(fe.Records), fe.Counts.Records)
	}

	var got Counts
	byOwner, byGroup := map[string]int{}, map[string]int{}
	ids := map[string]bool{}
	poison := 0
	for i, r := range recs {
		rx := fe.Records[i]
		if rx.Index != i || rx.SequenceNumber != r.seq || rx.EventID != r.eventID || rx.DataBytes != len(r.data) {
			t.Errorf("record %d: described as %+v", i, rx)
		}
		got.Records++
		errName, p := classify(t, r.data)
		if errName != rx.Error {
			t.Errorf("record %d (%s): decodes as %q, expected %q", i, rx.Type, errName, rx.Error)
			continue
		}
		if errName != "" {
			got.PoisonRecords++
			if poison >= len(fe.Poison) || fe.Poison[poison].Index != i || fe.Poison[poison].SequenceNumber != r.seq ||
				fe.Poison[poison].Kind != rx.Type || fe.Poison[poison].Error != errName || fe.Poison[poison].Reason == "" {
				t.Errorf("record %d: poison list does not describe it: %+v", i, fe.Poison)
			}
			poison++
			if Sentinel(errName) == nil {
				t.Errorf("record %d: error %q names no subscription sentinel", i, errName)
			}
			continue
		}
		if p.MessageType != rx.MessageType || p.Owner != rx.Owner || p.LogGroup != rx.LogGroup || p.LogStream != rx.LogStream || p.PolicyLevel != rx.PolicyLevel {
			t.Errorf("record %d: payload %s/%s/%s/%s/%q, described %+v", i, p.MessageType, p.Owner, p.LogGroup, p.LogStream, p.PolicyLevel, rx)
		}
		switch p.MessageType {
		case subscription.ControlMessage:
			got.ControlMessages++
			if rx.Type != TypeControl || p.Owner != "CloudwatchLogs" || p.LogGroup != "" || len(p.LogEvents) != 1 ||
				!strings.HasPrefix(p.LogEvents[0].Message, "CWL CONTROL MESSAGE: Checking health of destination") || rx.LogEvents != 0 {
				t.Errorf("record %d: not the CONTROL_MESSAGE CloudWatch Logs sends: %+v", i, p)
			}
		case subscription.DataMessage:
			got.DataMessages++
			got.LogEvents += len(p.LogEvents)
			got.DecompressedBytes += int64(p.size)
			byOwner[p.Owner] += len(p.LogEvents)
			byGroup[p.LogGroup] += len(p.LogEvents)
			n := len(p.LogEvents)
			if rx.Type != TypeData || n == 0 || n != rx.LogEvents || int64(p.size) != rx.DecompressedBytes ||
				p.LogEvents[0].ID != rx.FirstEventID || p.LogEvents[n-1].ID != rx.LastEventID || len(p.SubscriptionFilters) != 1 {
				t.Errorf("record %d: %d events (%d bytes), described %+v", i, n, p.size, rx)
			}
			for j, e := range p.LogEvents {
				if ids[e.ID] || len(e.ID) != 56 || e.Message == "" || (j > 0 && e.Timestamp < p.LogEvents[j-1].Timestamp) {
					t.Errorf("record %d event %d: duplicate, malformed or out of order: %+v", i, j, e)
				}
				ids[e.ID] = true
				if f := p.fields[j]; f != nil && f["@aws.account"] != p.Owner {
					t.Errorf("record %d event %d: extractedFields %v do not name the owner %s", i, j, f, p.Owner)
				}
			}
		}
	}
	if poison != len(fe.Poison) {
		t.Errorf("%d poison records decoded, %d listed", poison, len(fe.Poison))
	}
	if got != fe.Counts {
		t.Errorf("counted %+v, expectations say %+v", got, fe.Counts)
	}
	if !maps.Equal(byOwner, fe.EventsByOwner) || !maps.Equal(byGroup, fe.EventsByLogGroup) {
		t.Errorf("events by owner %v / group %v, expectations say %v / %v", byOwner, byGroup, fe.EventsByOwner, fe.EventsByLogGroup)
	}
	sum := 0
	for _, s := range fe.Sources {
		sum += s.LogEvents
	}
	if sum != got.LogEvents || len(fe.Owners) != len(byOwner) || len(fe.LogGroups) != len(byGroup) {
		t.Errorf("sources %+v, owners %v, groups %v do not add up to %d events", fe.Sources, fe.Owners, fe.LogGroups, got.LogEvents)
	}
}

// decoded is a good payload as the oracle sees it.
type decoded struct {
	events.CloudwatchLogsData
	// PolicyLevel and fields are what aws-lambda-go's type lacks.
	PolicyLevel string
	fields      []map[string]string
	size        int
}

// classify decodes a record's data with the standard library alone and
// names the subscription sentinel a decoder must return ("" if good).
func classify(t *testing.T, data []byte) (string, *decoded) {
	t.Helper()
	const maxSize = subscription.DefaultMaxDecompressed
	zr, err := gzip.NewReader(bytes.NewReader(data))
	switch {
	case errors.Is(err, gzip.ErrHeader):
		return "ErrNotGzip", nil
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "ErrTruncated", nil
	case err != nil:
		t.Fatalf("unexpected gzip header error: %v", err)
	}
	// Count first, without holding a bomb's inflated bytes.
	n, err := io.Copy(io.Discard, io.LimitReader(zr, maxSize+1))
	if n > maxSize {
		return "ErrTooLarge", nil
	}
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt):
		return "ErrCorruptGzip", nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "ErrTruncated", nil
	case err != nil:
		t.Fatalf("unexpected gunzip error: %v", err)
	}
	zr, _ = gzip.NewReader(bytes.NewReader(data))
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(raw) {
		return "ErrNotJSON", nil
	}
	d := &decoded{size: len(raw)}
	if err := json.Unmarshal(raw, &d.CloudwatchLogsData); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			t.Fatalf("unexpected JSON error: %v", err)
		}
		return "ErrShape", nil
	}
	if d.MessageType != subscription.DataMessage && d.MessageType != subscription.ControlMessage {
		return "ErrUnknownType", nil
	}
	var extra struct {
		PolicyLevel string `json:"policyLevel"`
		LogEvents   []struct {
			ExtractedFields map[string]string `json:"extractedFields"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		t.Fatalf("policyLevel/extractedFields: %v", err)
	}
	d.PolicyLevel = extra.PolicyLevel
	for _, e := range extra.LogEvents {
		d.fields = append(d.fields, e.ExtractedFields)
	}
	return "", d
}

// TestCommittedContent pins what the task asks each committed file to show,
// so a manifest edit cannot quietly drop a case.
func TestCommittedContent(t *testing.T) {
	exp, err := LoadExpectations(filepath.Join(eventsDir, ExpectationsName))
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string) *FileExpectation {
		t.Helper()
		f := exp.File(name)
		if f == nil {
			t.Fatalf("events/%s is not described", name)
		}
		if f.Bytes > 100<<10 {
			t.Errorf("events/%s is %d bytes: keep committed files small enough to read", name, f.Bytes)
		}
		return f
	}
	if f := file("kinesis-data.json"); len(f.Owners) < 2 || len(f.LogGroups) < 3 || f.Counts.DataMessages != f.Counts.Records {
		t.Errorf("kinesis-data.json: want only good data from >= 2 owners and >= 3 groups, got %+v", f.Counts)
	}
	if f := file("kinesis-control.json"); f.Counts.ControlMessages != 1 {
		t.Errorf("kinesis-control.json: %d control messages", f.Counts.ControlMessages)
	}
	f := file("kinesis-account-policy.json")
	withFields := 0
	for _, r := range f.Records {
		if r.PolicyLevel != "ACCOUNT_LEVEL_POLICY" {
			t.Errorf("kinesis-account-policy.json record %d: policyLevel %q", r.Index, r.PolicyLevel)
		}
	}
	raw, err := os.ReadFile(filepath.Join(eventsDir, "kinesis-account-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for _, r := range ev.Records {
		if _, d := classify(t, r.Kinesis.Data); d != nil && d.fields[0]["@aws.region"] != "" {
			withFields++
		}
	}
	if withFields == 0 {
		t.Error("kinesis-account-policy.json: no record carries extractedFields with @aws.account and @aws.region")
	}
	kinds := map[string]bool{}
	for _, p := range file("kinesis-poison.json").Poison {
		kinds[p.Kind] = true
	}
	for _, k := range PoisonKinds() {
		if !kinds[k] && k != PoisonGzipBomb {
			t.Errorf("kinesis-poison.json has no %s record", k)
		}
	}
	if f := file("kinesis-poison.json"); f.Counts.DataMessages < 2 {
		t.Errorf("kinesis-poison.json: poison should be mixed among good records, got %+v", f.Counts)
	}
	if f := file("awslogs-direct.json"); f.Event != EventAWSLogs || f.Counts.LogEvents == 0 {
		t.Errorf("awslogs-direct.json: %+v", f)
	}
}

func TestSixMegabyteEvent(t *testing.T) {
	set := realEvents(t)
	var fe *FileExpectation
	for i := range set.Files {
		if set.Files[i].LimitBytes > 0 {
			fe = &set.Files[i]
		}
	}
	if fe == nil || Committed(fe.Path) {
		t.Fatalf("no generated, filled file: %+v", fe)
	}
	data := set.Output(fe.Path).Data
	if fe.LimitBytes != LambdaPayloadLimit || len(data) > LambdaPayloadLimit || len(data) < LambdaPayloadLimit*95/100 {
		t.Errorf("%s is %d bytes: want <= %d and within 5%% of it", fe.Path, len(data), LambdaPayloadLimit)
	}
	// Lambda sends compact JSON; any whitespace would count against the limit.
	if bytes.Count(data, []byte("\n")) != 1 || bytes.Contains(data, []byte(": ")) {
		t.Errorf("%s is not compact JSON", fe.Path)
	}
	if fe.Counts.Records > 10000 {
		t.Errorf("%d records: an event source mapping batches at most 10,000", fe.Counts.Records)
	}
	for _, r := range fe.Records {
		if r.DataBytes > 1<<20 {
			t.Errorf("record %d is %d bytes: over the 1 MiB Kinesis record limit", r.Index, r.DataBytes)
		}
	}
	if len(fe.Sources) < 3 || len(fe.Owners) < 2 {
		t.Errorf("%s is not mixed: %+v", fe.Path, fe.Sources)
	}
}

func TestWriteLeavesUpToDateFilesAlone(t *testing.T) {
	m, err := LoadManifest("testdata/basic")
	if err != nil {
		t.Fatal(err)
	}
	set, err := Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, err := set.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := set.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"one.json", "two.json", "direct.json", "generated/fill.json", "expected.json", "generated/expected.json", "README.md"}
	if len(first) != len(want) || len(second) != len(want) {
		t.Fatalf("wrote %v then %v, want %v", first, second, want)
	}
	for i, w := range want {
		if first[i].Path != w || !first[i].Changed || second[i].Changed {
			t.Errorf("file %d: first %+v, second %+v, want %s written once", i, first[i], second[i], w)
		}
	}
	var buf bytes.Buffer
	set.PrintSummary(&buf, dir, second)
	for _, s := range []string{"unchanged", "one.json: 3 records (3 data, 0 control, 0 poison), 7 log events", "two.json: 2 records (0 data, 1 control, 1 poison)", "of 20000", "0 of 7 files changed"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestCheckFindsStaleAndStrayFiles(t *testing.T) {
	m, err := LoadManifest("testdata/basic")
	if err != nil {
		t.Fatal(err)
	}
	set, err := Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := set.Write(dir); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src") // inputs inside the output tree are not strays
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(src, "manifest.json"), []byte("{}"), 0o644))
	must(t, os.RemoveAll(filepath.Join(dir, "generated"))) // generated files are not checked
	if err := set.Check(dir, src); err != nil {
		t.Fatalf("fresh output: %v", err)
	}

	must(t, os.WriteFile(filepath.Join(dir, "one.json"), []byte("{}\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "hand-written.json"), []byte("{}\n"), 0o644))
	must(t, os.Remove(filepath.Join(dir, "README.md")))
	err = set.Check(dir, src)
	if !errors.Is(err, ErrStale) {
		t.Fatalf("Check = %v, want ErrStale", err)
	}
	for _, s := range []string{"one.json: differs", "hand-written.json: not generated", "README.md: missing"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

func TestManifestErrors(t *testing.T) {
	const file = `{"name": "a.json", "records": [{"owner": "1", "logGroup": "/g", "logStream": "s", "events": 1}]}`
	manifest := func(files ...string) string {
		return `{"start": "2026-01-01T00:00:00Z", "step": "1s", "files": [` + strings.Join(files, ",") + `]}`
	}
	tests := []struct {
		name, manifest string
		want           []string
	}{
		{"unknown key", `{"start": "2026-01-01T00:00:00Z", "step": "1s", "sed": 1, "files": [` + file + `]}`, []string{`unknown field "sed"`}},
		{"bad start and step together", `{"start": "yesterday", "step": "-1s", "files": [` + file + `]}`, []string{`start "yesterday"`, `step "-1s"`}},
		{"no files", manifest(), []string{"no files"}},
		{"bad stream ARN", `{"start": "2026-01-01T00:00:00Z", "step": "1s", "streamARN": "arn:aws:sqs:us-east-1:1:q", "files": [` + file + `]}`, []string{"streamARN"}},
		{"unknown template kind", `{"start": "2026-01-01T00:00:00Z", "step": "1s", "templates": {"syslog": "app.log"}, "files": [` + file + `]}`, []string{`unknown kind "syslog"`}},
		{"missing template file", `{"start": "2026-01-01T00:00:00Z", "step": "1s", "templates": {"app": "nope.log"}, "files": [` + file + `]}`, []string{"nope.log"}},
		{"duplicate names", manifest(file, file), []string{"duplicate name"}},
		{"escaping path", manifest(strings.Replace(file, "a.json", "../a.json", 1)), []string{"relative path"}},
		{"expectations name", manifest(strings.Replace(file, "a.json", "expected.json", 1)), []string{"relative path"}},
		{"not json", manifest(strings.Replace(file, "a.json", "a.txt", 1)), []string{"relative path"}},
		{"unknown event", manifest(strings.Replace(file, `"records"`, `"event": "sqs", "records"`, 1)), []string{`event "sqs"`}},
		{"awslogs with two records", manifest(`{"name": "a.json", "event": "awslogs", "records": [{"type": "control"}, {"type": "control"}]}`), []string{"exactly one payload"}},
		{"no records", manifest(`{"name": "a.json", "records": []}`), []string{"no records"}},
		{"fill without compact", manifest(strings.Replace(file, `"records"`, `"fillTo": 1000, "records"`, 1)), []string{"fillTo needs compact"}},
		{"fill over the limit", manifest(strings.Replace(file, `"records"`, `"compact": true, "fillTo": 7000000, "records"`, 1)), []string{"fillTo 7000000"}},
		{"repeat in a fill file", manifest(`{"name": "a.json", "compact": true, "fillTo": 1000, "records": [{"owner": "1", "logGroup": "/g", "logStream": "s", "events": 1, "repeat": 2}]}`), []string{"repeat 2"}},
		{"unknown type", manifest(strings.Replace(file, `"owner"`, `"type": "zip-bomb", "owner"`, 1)), []string{`type "zip-bomb"`, "gzip-bomb"}},
		{"unknown kind", manifest(strings.Replace(file, `"owner"`, `"kind": "syslog", "owner"`, 1)), []string{`unknown kind "syslog"`}},
		{"missing source", manifest(`{"name": "a.json", "records": [{"events": 1}]}`), []string{"owner, logGroup and logStream are required"}},
		{"no events", manifest(strings.Replace(file, `"events": 1`, `"events": 0`, 1)), []string{"events > 0 or lines"}},
		{"negative size", manifest(strings.Replace(file, `"events": 1`, `"events": 1, "size": -5`, 1)), []string{"must not be negative"}},
		{"inflate on data", manifest(strings.Replace(file, `"events": 1`, `"events": 1, "inflate": 100`, 1)), []string{"inflate applies to gzip-bomb"}},
		{"bomb outside generated", manifest(strings.Replace(file, `"owner"`, `"type": "gzip-bomb", "owner"`, 1)), []string{"keep it in a generated/ file"}},
		{"missing record template", manifest(strings.Replace(file, `"events": 1`, `"events": 1, "template": "gone.log"`, 1)), []string{"gone.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest("testdata/basic", []byte(tt.manifest))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestGeneratedFromTestdata(t *testing.T) {
	m, err := LoadManifest("testdata/basic")
	if err != nil {
		t.Fatal(err)
	}
	set, err := Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	// Literal lines arrive in order with placeholders filled; repeat gives two records.
	var ev events.KinesisEvent
	must(t, json.Unmarshal(set.Output("one.json").Data, &ev))
	if len(ev.Records) != 3 {
		t.Fatalf("%d records", len(ev.Records))
	}
	for _, i := range []int{1, 2} {
		_, d := classify(t, ev.Records[i].Kinesis.Data)
		if d == nil || len(d.LogEvents) != 2 || d.LogEvents[0].Message != "x 222222222222" || d.LogEvents[1].Message != "y" {
			t.Errorf("record %d: %+v", i, d)
		}
	}
	_, d := classify(t, ev.Records[0].Kinesis.Data)
	if d == nil || !strings.Contains(d.LogEvents[0].Message, " INFO handled ") {
		t.Errorf("template file not used: %+v", d)
	}
	if got := string(set.Output("README.md").Data); !strings.Contains(got, "one.json: 3 records, 7 events\ntwo.json: 2 records, 0 events") {
		t.Errorf("README:\n%s", got)
	}
	for _, fe := range set.Files {
		data := set.Output(fe.Path).Data
		checkEventFile(t, data, fe)
	}
	fill := set.Files[3]
	if fill.Bytes > 20000 || fill.Bytes < 19000 || fill.Counts.Records < 2 {
		t.Errorf("fill: %d bytes, %d records", fill.Bytes, fill.Counts.Records)
	}
}

func TestSentinel(t *testing.T) {
	for _, k := range PoisonKinds() {
		if Sentinel(poisonKinds[k].errName) == nil {
			t.Errorf("%s: error %q has no sentinel", k, poisonKinds[k].errName)
		}
	}
	if !errors.Is(Sentinel("ErrTruncated"), subscription.ErrTruncated) || Sentinel("ErrNope") != nil {
		t.Error("Sentinel maps names wrongly")
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
