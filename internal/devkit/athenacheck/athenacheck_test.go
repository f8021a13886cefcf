// Package athenacheck proves offline that what the S3 sink writes is the
// table the recipient stack declares: events go through the real handler
// and S3 sink into moto, the objects are downloaded, and DuckDB (a real
// query engine reading gzip NDJSON and Parquet with Hive partitions) reads
// them through the table's own storage.location.template, column list and
// partition types, as Athena would.
//
// The package has only tests: DuckDB needs cgo, and nothing the functions
// link may import it (they build with CGO_ENABLED=0).
package athenacheck

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"github.com/logfan/logfan/internal/devkit/emulator"
	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink/s3sink"
	"github.com/logfan/logfan/shared/sink/s3sink/s3parquet"
	"github.com/logfan/logfan/shared/subscription"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emutest.RunTests(m, &srv)) }

const prefix = "logs"

// hub is the account the handler is told is its own (LOGFAN_HUB_ACCOUNT):
// its payloads' events are owned by the source accounts they name.
const hub = "888888888888"

// partKey identifies one partition as the sink names it (values unescaped).
type partKey struct {
	owner, logGroup, dt string
	hour                int
}

// sent is what went into the sink: events per partition and per owner
// and region, and every event by ID.
type sent struct {
	perPart   map[partKey]int
	perRegion map[[2]string]int
	byID      map[string]record.Event
	total     int
}

func newSent() *sent {
	return &sent{perPart: map[partKey]int{}, perRegion: map[[2]string]int{}, byID: map[string]record.Event{}}
}

// add counts the events of a decoded DATA_MESSAGE, split per source and
// attributed as the handler does.
func (s *sent) add(t *testing.T, m *subscription.Message) {
	t.Helper()
	parts := subscription.Split(m)
	if parts == nil {
		parts = []subscription.Part{{Message: m}}
	}
	for _, p := range parts {
		subscription.Attribute(p.Message, hub)
		s.addPart(t, p.Message)
	}
}

func (s *sent) addPart(t *testing.T, m *subscription.Message) {
	t.Helper()
	for i := range m.LogEvents {
		ev := &m.LogEvents[i]
		at := time.UnixMilli(ev.Timestamp).UTC()
		s.perPart[partKey{m.Owner, m.LogGroup, at.Format(s3layout.DateLayout), at.Hour()}]++
		if _, dup := s.byID[ev.ID]; dup {
			t.Fatalf("event ID %s sent twice", ev.ID)
		}
		s.byID[ev.ID] = record.From(m, ev)
		s.perRegion[[2]string{m.Owner, m.Region}]++
		s.total++
	}
}

// addPayload counts what a Lambda event carries, decoding it with the
// same decoder the handler uses (poison records count nothing).
func (s *sent) addPayload(t *testing.T, payload []byte) {
	t.Helper()
	inv, err := invocation.Parse(payload)
	if err != nil {
		t.Fatal(err)
	}
	datas := [][]byte{inv.AWSLogsData}
	if !inv.IsAWSLogs {
		datas = nil
		for _, r := range inv.Records {
			datas = append(datas, r.Data)
		}
	}
	for _, d := range datas {
		m, err := subscription.NewDecoder(subscription.DefaultMaxDecompressed).Decode(d)
		if err == nil && m.MessageType == subscription.DataMessage {
			s.add(t, m)
		}
	}
}

// bigBatch is a Kinesis event of 10,000 events: three owners, log groups
// whose names need escaping ('/', '#', '$', a space), events over five
// hours crossing midnight, the four message kinds, and a few events with
// invalid UTF-8, extracted fields and a policy level.
func bigBatch(t *testing.T) []byte {
	t.Helper()
	g := eventgen.New(42)
	kinds := []string{eventgen.KindApp, eventgen.KindCloudTrail, eventgen.KindVPCFlow, eventgen.KindRandom}
	groups := []string{"/aws/lambda/orders", "/ecs/api#blue", "prod app $LATEST", "plain"}
	start := time.Date(2026, 3, 4, 21, 30, 0, 0, time.UTC)
	var datas [][]byte
	for i := 0; i < 40; i++ {
		src := eventgen.Source{
			Owner:     fmt.Sprintf("%012d", 111111111111*(1+i%3)),
			LogGroup:  groups[i%len(groups)],
			LogStream: fmt.Sprintf("stream-%d", i%5),
			Kind:      kinds[i%len(kinds)],
		}
		// 250 events, one every 4.5 s: each record covers ~19 minutes.
		m := g.Message(src, 250, start.Add(time.Duration(i)*7*time.Minute), 4500*time.Millisecond, 0)
		if i%10 == 3 {
			m.PolicyLevel = "ACCOUNT_LEVEL_POLICY"
			m.LogEvents[0].Message = "invalid UTF-8 \xff\xfe here"
			m.LogEvents[1].ExtractedFields = []byte(`{"@aws.account":"` + src.Owner + `","@aws.region":"us-east-1"}`)
		}
		datas = append(datas, eventgen.MustPayload(m))
	}
	// A hub's log groups: events CloudWatch Logs centralization copied
	// from two accounts and two regions, whose system fields name them;
	// one record holds events of both, interleaved.
	sources := [][2]string{{"111111111111", "eu-west-1"}, {"222222222222", "us-east-2"}}
	for i := 0; i < 6; i++ {
		src := eventgen.Source{Owner: hub, LogGroup: "/aws/lambda/orders", LogStream: fmt.Sprintf("hub-%d", i), Kind: eventgen.KindApp}
		m := g.Message(src, 200, start.Add(time.Duration(i)*11*time.Minute), 3*time.Second, 0)
		for j := range m.LogEvents {
			sf := sources[i%2]
			if i == 5 {
				sf = sources[j%2]
			}
			m.LogEvents[j].ExtractedFields = []byte(`{"@aws.account":"` + sf[0] + `","@aws.region":"` + sf[1] + `"}`)
		}
		datas = append(datas, eventgen.MustPayload(m))
	}
	b, err := invocation.KinesisEventJSON(invocation.Stream{ShardID: "shardId-000000000007"}, datas)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliver runs the real S3 handler, as Lambda would, on every sample event
// and the big batch, writing format to a fresh bucket, and returns what was
// sent and the bucket.
func deliver(t *testing.T, format string) (*sent, string) {
	t.Helper()
	emutest.Require(t, srv)
	ctx := context.Background()
	bucket := "athenacheck-" + format
	cfg := emutest.Config(t, srv, emulator.Region)
	client := awsclient.S3(cfg)
	emutest.Buckets(t, client, bucket, bucket+"-quarantine")
	c, err := config.Load(config.SinkS3, func(k string) string {
		return map[string]string{config.EnvS3Bucket: bucket, config.EnvS3Prefix: prefix, config.EnvS3Format: format,
			config.EnvQuarantineBucket: bucket + "-quarantine", config.EnvHubAccount: hub}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	build := s3sink.Build
	if format == s3layout.FormatParquet {
		build = s3parquet.Build
	}
	h, err := app.NewHandler(c, cfg, build, app.Deps{Metrics: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../../events/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("sample events: %v %v", files, err)
	}
	s := newSent()
	var payloads [][]byte
	for _, f := range files {
		if filepath.Base(f) == "expected.json" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, b)
	}
	payloads = append(payloads, bigBatch(t))
	for _, p := range payloads {
		s.addPayload(t, p)
		out, err := h.Invoke(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), `"itemIdentifier"`) {
			t.Fatalf("batch item failures: %s", out)
		}
	}
	if s.total < 10_000 {
		t.Fatalf("only %d events sent", s.total)
	}
	return s, bucket
}

// download copies every object under prefix into dir, under its key.
func download(t *testing.T, bucket, dir string) (objects int, bytes int64) {
	t.Helper()
	ctx := context.Background()
	cfg := emutest.Config(t, srv, emulator.Region)
	client := awsclient.S3(cfg)
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key}, func(o *s3.Options) {
				o.DisableLogOutputChecksumValidationSkipped = true
			})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, filepath.FromSlash(*o.Key))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(f, out.Body)
			out.Body.Close()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			objects++
			bytes += n
		}
	}
	return objects, bytes
}

// duckType is the DuckDB type of a Hive type of the table.
func duckType(t *testing.T, hive string) string {
	t.Helper()
	switch hive {
	case "string":
		return "VARCHAR"
	case "int":
		return "INTEGER"
	case "bigint":
		return "BIGINT"
	case "array<string>":
		return "VARCHAR[]"
	case "map<string,string>":
		return "MAP(VARCHAR, VARCHAR)"
	}
	t.Fatalf("no DuckDB type for Hive %s", hive)
	return ""
}

// table is a DuckDB view over the downloaded objects declared the way the
// Glue table is: files found through the table's location template,
// partition keys typed as the table types them (hive_types, so owner stays
// VARCHAR), and the table's columns read by name.
type table struct {
	db     *sql.DB
	format string
	dir    string
}

// template is the table's storage.location.template over dir instead of
// s3://bucket: s3layout.LocationTemplate, as the stack builds it.
func (tb *table) template() string {
	return s3layout.LocationTemplate(filepath.ToSlash(tb.dir) + "/" + prefix)
}

// glob turns a (partly filled) template into a file glob: each remaining
// ${key} matches any value, and the files end in the format's extension.
func (tb *table) glob(template string) string {
	for _, k := range s3layout.PartitionKeys {
		template = strings.ReplaceAll(template, "${"+k+"}", "*")
	}
	return template + "*" + s3layout.Extension(tb.format)
}

// source is the DuckDB table function reading the files of glob with the
// table's columns and partition types.
func (tb *table) source(t *testing.T, glob string) string {
	t.Helper()
	var hiveTypes, cols []string
	for _, c := range s3layout.PartitionColumns() {
		hiveTypes = append(hiveTypes, fmt.Sprintf("'%s': '%s'", c.Name, duckType(t, c.Type)))
	}
	// The table's column names are the record's JSON names in lower case;
	// DuckDB reads JSON keys and Parquet columns by their exact names.
	jsonName := map[string]string{}
	for _, c := range record.Columns {
		jsonName[strings.ToLower(c.Name)] = c.Name
	}
	var proj []string
	for _, c := range s3layout.TableColumns() {
		cols = append(cols, fmt.Sprintf("'%s': '%s'", jsonName[c.Name], duckType(t, c.Type)))
		proj = append(proj, fmt.Sprintf(`"%s" AS %s`, jsonName[c.Name], c.Name))
	}
	for _, c := range s3layout.PartitionColumns() {
		proj = append(proj, c.Name)
	}
	hive := "hive_partitioning = true, hive_types = {" + strings.Join(hiveTypes, ", ") + "}"
	var from string
	if tb.format == s3layout.FormatParquet {
		from = fmt.Sprintf("read_parquet('%s', %s)", glob, hive)
	} else {
		from = fmt.Sprintf("read_json('%s', format = 'newline_delimited', compression = 'gzip', %s, columns = {%s})", glob, hive, strings.Join(cols, ", "))
	}
	return "(SELECT " + strings.Join(proj, ", ") + " FROM " + from + ")"
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	db.SetMaxOpenConns(1) // the SET below holds per connection
	// No network here, and nothing may be fetched behind the test's back:
	// json and parquet are built into the library.
	for _, q := range []string{"SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false", "SET threads = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

func TestNDJSON(t *testing.T)  { checkFormat(t, s3layout.FormatNDJSON) }
func TestParquet(t *testing.T) { checkFormat(t, s3layout.FormatParquet) }

func checkFormat(t *testing.T, format string) {
	// GIVEN the sample events and a 10,000-event batch delivered by the real handler
	want, bucket := deliver(t, format)
	dir := t.TempDir()
	objects, size := download(t, bucket, dir)
	t.Logf("%s: %d events in %d objects, %d bytes", format, want.total, objects, size)
	tb := &table{db: openDuckDB(t), format: format, dir: dir}
	all := tb.source(t, tb.glob(tb.template()))

	// THEN counts per owner, log group and hour are what was sent
	rows, err := tb.db.Query("SELECT owner, log_group, dt, hour, count(*) FROM " + all + " GROUP BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	got := map[partKey]int{}
	total := 0
	for rows.Next() {
		var k partKey
		var n int
		if err := rows.Scan(&k.owner, &k.logGroup, &k.dt, &k.hour, &n); err != nil {
			t.Fatal(err)
		}
		// DuckDB URL-decodes partition values (Athena's projection does not:
		// it substitutes the template's raw values), so the escaped name
		// reads back as the name.
		got[k] += n
		total += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if total != want.total || len(got) != len(want.perPart) {
		t.Errorf("read %d events in %d partitions, sent %d in %d", total, len(got), want.total, len(want.perPart))
	}
	for k, n := range want.perPart {
		if got[k] != n {
			t.Errorf("%+v: read %d, sent %d", k, got[k], n)
		}
	}

	// AND every field reads back non-null where the record has it, equal to it
	checkFields(t, tb, all, want)

	// AND events count per owner and region as sent: a hub's sources apart
	checkRegions(t, tb, all, want)

	// AND a query the way Athena runs it with injected projection (owner
	// and log_group by equality, filled into the template raw) reads only
	// that log group's files, and counts its hour exactly
	checkInjected(t, tb, want)

	// AND a filter on the partition keys prunes files, visibly in the plan
	checkPruning(t, tb, all, want, objects)

	if format == s3layout.FormatParquet {
		logColumnBytes(t, tb, size)
	}
}

// logColumnBytes logs the compressed bytes per Parquet column: what Athena
// scans for a query that reads only those columns (plus footers), against
// all of it for gzip NDJSON.
func logColumnBytes(t *testing.T, tb *table, total int64) {
	t.Helper()
	rows, err := tb.db.Query("SELECT any_value(path_in_schema::VARCHAR) || '#' || column_id AS col, sum(total_compressed_size) FROM parquet_metadata('" +
		tb.glob(tb.template()) + "') GROUP BY column_id ORDER BY 2 DESC")
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for rows.Next() {
		var col string
		var n int64
		if err := rows.Scan(&col, &n); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, fmt.Sprintf("%s %d", col, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("parquet: %d bytes in files; compressed bytes per column: %s", total, strings.Join(cols, ", "))
}

// checkFields compares every row with the record the sink was given.
func checkFields(t *testing.T, tb *table, all string, want *sent) {
	t.Helper()
	rows, err := tb.db.Query(`SELECT owner, loggroup, logstream, subscriptionfilters, id, "timestamp", message,
		CAST(extractedfields AS JSON)::VARCHAR, policylevel, region, hubaccount FROM ` + all)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var owner, group, stream, id, msg string
		var filters []any
		var ts int64
		var fields, policy, region, hubAccount sql.NullString
		if err := rows.Scan(&owner, &group, &stream, &filters, &id, &ts, &msg, &fields, &policy, &region, &hubAccount); err != nil {
			t.Fatal(err)
		}
		w, ok := want.byID[id]
		if !ok {
			t.Fatalf("unexpected event %s", id)
		}
		seen++
		var fs []string
		for _, f := range filters {
			fs = append(fs, f.(string))
		}
		if owner != w.Owner || group != w.LogGroup || stream != w.LogStream || ts != w.Timestamp || msg != w.Message ||
			strings.Join(fs, ",") != strings.Join(w.SubscriptionFilters, ",") {
			t.Fatalf("event %s: read %q %q %q %v %d %q, sent %+v", id, owner, group, stream, fs, ts, msg, w)
		}
		if policy.Valid != (w.PolicyLevel != "") || policy.String != w.PolicyLevel {
			t.Fatalf("event %s: policyLevel %v, sent %q", id, policy, w.PolicyLevel)
		}
		if region.Valid != (w.Region != "") || region.String != w.Region || hubAccount.Valid != (w.HubAccount != "") || hubAccount.String != w.HubAccount {
			t.Fatalf("event %s: region %v hubAccount %v, sent %q %q", id, region, hubAccount, w.Region, w.HubAccount)
		}
		if fields.Valid != (len(w.ExtractedFields) > 0) {
			t.Fatalf("event %s: extractedFields %v, sent %s", id, fields, w.ExtractedFields)
		}
		if fields.Valid && !sameJSONObject(t, fields.String, string(w.ExtractedFields)) {
			t.Fatalf("event %s: extractedFields %s, sent %s", id, fields.String, w.ExtractedFields)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != want.total {
		t.Fatalf("compared %d events, sent %d", seen, want.total)
	}
}

// checkRegions counts events per owner and region (null where the payload
// named none) and compares them with what was sent.
func checkRegions(t *testing.T, tb *table, all string, want *sent) {
	t.Helper()
	rows, err := tb.db.Query("SELECT owner, region, count(*) FROM " + all + " GROUP BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]int{}
	for rows.Next() {
		var owner string
		var region sql.NullString
		var n int
		if err := rows.Scan(&owner, &region, &n); err != nil {
			t.Fatal(err)
		}
		got[[2]string{owner, region.String}] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want.perRegion) {
		t.Errorf("events per owner and region:\n read %v\n sent %v", got, want.perRegion)
	}
	for _, k := range [][2]string{{"111111111111", "eu-west-1"}, {"222222222222", "us-east-2"}} {
		if got[k] == 0 {
			t.Errorf("no events of %s in %s: the hub's sources are missing", k[0], k[1])
		}
	}
	if got[[2]string{hub, ""}] != 0 || got[[2]string{hub, "eu-west-1"}] != 0 {
		t.Errorf("events of the hub's sources counted for the hub: %v", got)
	}
}

// checkInjected fills owner and log_group into the template as Athena's
// projection does (the raw, escaped values the sink wrote) and counts one
// log group's events per hour.
func checkInjected(t *testing.T, tb *table, want *sent) {
	t.Helper()
	owner, group := "111111111111", "/ecs/api#blue"
	tmpl := strings.NewReplacer("${owner}", s3layout.PartitionValue(owner), "${log_group}", s3layout.PartitionValue(group)).Replace(tb.template())
	rows, err := tb.db.Query("SELECT dt, hour, count(*) FROM " + tb.source(t, tb.glob(tmpl)) + " GROUP BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	got := map[partKey]int{}
	for rows.Next() {
		k := partKey{owner: owner, logGroup: group}
		var n int
		if err := rows.Scan(&k.dt, &k.hour, &n); err != nil {
			t.Fatal(err)
		}
		got[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for k, c := range want.perPart {
		if k.owner == owner && k.logGroup == group {
			n++
			if got[k] != c {
				t.Errorf("injected %+v: read %d, sent %d", k, got[k], c)
			}
		}
	}
	if n == 0 || len(got) != n {
		t.Errorf("injected query read %d partitions, sent %d", len(got), n)
	}
}

// checkPruning runs EXPLAIN ANALYZE on a query for one hour and checks
// the scan read fewer files than the table holds.
func checkPruning(t *testing.T, tb *table, all string, want *sent, objects int) {
	t.Helper()
	var k partKey
	for k = range want.perPart {
		break
	}
	q := fmt.Sprintf("SELECT count(*) FROM %s WHERE dt = '%s' AND hour = %d", all, k.dt, k.hour)
	var n int
	if err := tb.db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	wantN := 0
	for kk, c := range want.perPart {
		if kk.dt == k.dt && kk.hour == k.hour {
			wantN += c
		}
	}
	if n != wantN {
		t.Errorf("dt=%s hour=%d: %d events, sent %d", k.dt, k.hour, n, wantN)
	}
	var kind, plan string
	if err := tb.db.QueryRow("EXPLAIN ANALYZE "+q).Scan(&kind, &plan); err != nil {
		t.Fatal(err)
	}
	// The scan reports "Scanning Files: read/total"; read must be exactly
	// the files of that hour's partitions.
	m := scanning.FindStringSubmatch(plan)
	if m == nil {
		t.Fatalf("no file count in the plan:\n%s", plan)
	}
	hourFiles, err := filepath.Glob(tb.glob(strings.NewReplacer("${dt}", k.dt, "${hour}", fmt.Sprintf("%0*d", s3layout.HourDigits, k.hour)).Replace(tb.template())))
	if err != nil {
		t.Fatal(err)
	}
	if m[1] != strconv.Itoa(len(hourFiles)) || m[2] != strconv.Itoa(objects) || len(hourFiles) >= objects {
		t.Errorf("plan scanned %s of %s files; the hour has %d of %d", m[1], m[2], len(hourFiles), objects)
	}
	t.Logf("EXPLAIN ANALYZE %s ... WHERE dt = '%s' AND hour = %d: %s", tb.format, k.dt, k.hour, m[0])
}

var scanning = regexp.MustCompile(`Scanning Files: (\d+)/(\d+)`)

// sameJSONObject compares two JSON objects of strings.
func sameJSONObject(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y map[string]any
	if err := jsonUnmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := jsonUnmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestFunctionsDoNotLinkDuckDB keeps DuckDB (cgo) out of everything the
// functions link: they build with CGO_ENABLED=0.
func TestFunctionsDoNotLinkDuckDB(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../../functions/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "duckdb") || strings.Contains(pkg, "athenacheck") {
			t.Errorf("a function links %s", pkg)
		}
	}
}
