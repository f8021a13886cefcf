package recipient

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/subscription"
)

// parquetStack: the S3 sink writing Parquet.
func parquetStack(t *testing.T) *synthesized {
	return synth(t, "parquet", map[string]any{CtxSenderAccounts: "111111111111,222222222222", CtxS3Format: s3layout.FormatParquet})
}

// glueTable returns the Glue table's TableInput as deployed with params.
func (s *synthesized) glueTable(t *testing.T, params map[string]string) map[string]any {
	t.Helper()
	_, table := s.only(t, "AWS::Glue::Table")
	return newEvaluator(s.json, params).eval(t, props(table)["TableInput"]).(map[string]any)
}

// sinkColumns are the keys of an NDJSON line the sink writes with every
// optional field present, less owner, in lower case.
func sinkColumns(t *testing.T) []string {
	t.Helper()
	m := &subscription.Message{Owner: "1", LogGroup: "g", LogStream: "s", SubscriptionFilters: []string{"f"}, PolicyLevel: "ACCOUNT_LEVEL_POLICY",
		Region: "eu-west-1", HubAccount: "999999999999"}
	line := record.AppendJSON(nil, m, &subscription.LogEvent{ID: "i", Timestamp: 1, Message: "m", ExtractedFields: json.RawMessage(`{"a":"b"}`)})
	dec := json.NewDecoder(strings.NewReader(string(line)))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if k != s3layout.KeyOwner {
			keys = append(keys, strings.ToLower(k.(string)))
		}
	}
	return keys
}

// names lists the Name of each column of a TableInput list.
func names(cols any) (out []string, types []string) {
	for _, c := range cols.([]any) {
		m := c.(map[string]any)
		out = append(out, m["Name"].(string))
		types = append(types, m["Type"].(string))
	}
	return out, types
}

// TestGlueTableIsWhatTheSinkWrites checks, in the synthesized template, the
// table's columns, partition keys and location template against what the
// real sink code writes: one source of truth, held from both ends.
func TestGlueTableIsWhatTheSinkWrites(t *testing.T) {
	for name, variant := range map[string]func(*testing.T) *synthesized{"default": defaultStack, "org": orgStack, "imports": importStack, "parquet": parquetStack} {
		t.Run(name, func(t *testing.T) {
			// GIVEN the table as deployed with the parameters' defaults
			s := variant(t)
			in := s.glueTable(t, nil)
			sd := in["StorageDescriptor"].(map[string]any)
			p := in["Parameters"].(map[string]any)

			// THEN its columns are the keys of a line the sink writes, without owner
			cols, types := names(sd["Columns"])
			if want := sinkColumns(t); !reflect.DeepEqual(cols, want) {
				t.Errorf("columns %v, the sink writes %v", cols, want)
			}
			for i, c := range s3layout.TableColumns() {
				if types[i] != c.Type {
					t.Errorf("column %s: type %s, want %s", c.Name, types[i], c.Type)
				}
			}
			if i := slices.Index(cols, "extractedfields"); i < 0 || types[i] != "map<string,string>" {
				t.Errorf("extractedfields is not a map: %v %v", cols, types)
			}
			// AND its partition keys are the key's segments, in order
			keys, ktypes := names(in["PartitionKeys"])
			if !reflect.DeepEqual(keys, s3layout.PartitionKeys[:]) {
				t.Errorf("partition keys %v, want %v", keys, s3layout.PartitionKeys)
			}
			if !reflect.DeepEqual(ktypes, []string{"string", "string", "string", "int"}) {
				t.Errorf("partition key types %v", ktypes)
			}

			// AND the template, filled the way Athena fills it (raw
			// projected values), is the directory of a key the sink writes
			bucket := s.settings.S3.BucketName
			for id := range s.resources("AWS::S3::Bucket") {
				if strings.HasPrefix(id, "DataBucket") {
					bucket = "<" + id + ">" // the evaluator's rendering of Ref
				}
			}
			part := s3layout.Partition{Owner: "111111111111", LogGroup: "/aws/lambda/orders#1", Hour: time.Date(2026, 3, 4, 7, 0, 0, 0, time.UTC).Unix() / 3600}
			at := time.Unix(part.Hour*3600, 0).UTC()
			javaToGo := strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02")
			digits, _ := strconv.Atoi(p["projection.hour.digits"].(string))
			filled := strings.NewReplacer(
				"${owner}", s3layout.PartitionValue(part.Owner),
				"${log_group}", s3layout.PartitionValue(part.LogGroup),
				"${dt}", at.Format(javaToGo.Replace(p["projection.dt.format"].(string))),
				"${hour}", fmt.Sprintf("%0*d", digits, at.Hour()),
			).Replace(p["storage.location.template"].(string))
			wantDir := part.Path(s.settings.S3.Prefix)
			if filled != "s3://"+bucket+"/"+wantDir {
				t.Errorf("template filled = %s, want s3://%s/%s", filled, bucket, wantDir)
			}
			if loc := sd["Location"].(string); !strings.HasPrefix(filled, loc) || filled[len(loc):] != strings.TrimPrefix(wantDir, s.settings.S3.Prefix+"/") {
				t.Errorf("location %s is not the template's base (%s)", loc, filled)
			}
			// AND the projection covers every value the sink can write there
			for k, want := range map[string]string{
				"projection.enabled": "true", "projection.log_group.type": "injected",
				"projection.dt.type": "date", "projection.dt.range": projectionStart + ",NOW",
				"projection.hour.type": "integer", "projection.hour.range": "0,23",
			} {
				if p[k] != want {
					t.Errorf("%s = %v, want %s", k, p[k], want)
				}
			}
			if s.settings.Senders.OrganizationMode() {
				if p["projection.owner.type"] != "injected" || p["projection.owner.values"] != noValue {
					t.Errorf("organization mode: owner projection %v / %v, want injected", p["projection.owner.type"], p["projection.owner.values"])
				}
			} else if p["projection.owner.type"] != "enum" || p["projection.owner.values"] != strings.Join(s.settings.Senders.Accounts, ",") {
				t.Errorf("owner projection %v / %v, want the sender accounts", p["projection.owner.type"], p["projection.owner.values"])
			}
			// AND the format is the sink's
			serde := sd["SerdeInfo"].(map[string]any)["SerializationLibrary"]
			if s.settings.S3.Format == s3layout.FormatParquet {
				if serde != parquetSerDe || p["classification"] != "parquet" {
					t.Errorf("parquet table: serde %v, classification %v", serde, p["classification"])
				}
			} else if serde != jsonSerDe || sd["InputFormat"] != textInput || p["classification"] != "json" {
				t.Errorf("NDJSON table: serde %v, input %v", serde, sd["InputFormat"])
			}
			// AND the function writes that format
			if env := s.function(t, "s3")["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any); env["LOGFAN_S3_FORMAT"] != s.settings.S3.Format && (env["LOGFAN_S3_FORMAT"] != nil || s.settings.S3.Format != s3layout.FormatNDJSON) {
				t.Errorf("function format %v, table %s", env["LOGFAN_S3_FORMAT"], s.settings.S3.Format)
			}
		})
	}
}

// TestOwnerProjectionFollowsTheParameter checks a deploy that onboards by
// parameter gets the new accounts in the enum too.
func TestOwnerProjectionFollowsTheParameter(t *testing.T) {
	p := defaultStack(t).glueTable(t, map[string]string{ParamSenderAccounts: "111111111111,222222222222"})["Parameters"].(map[string]any)
	if got := p["projection.owner.values"]; got != "111111111111,222222222222" {
		t.Fatalf("owner values %v", got)
	}
}

func TestAthenaWorkGroupAndOutputs(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	// THEN one workgroup enforces encrypted results in a bucket of their own
	_, wg := s.only(t, "AWS::Athena::WorkGroup")
	e := newEvaluator(s.json, nil)
	cfg := e.eval(t, props(wg)["WorkGroupConfiguration"]).(map[string]any)
	rc := cfg["ResultConfiguration"].(map[string]any)
	if cfg["EnforceWorkGroupConfiguration"] != true || rc["EncryptionConfiguration"].(map[string]any)["EncryptionOption"] != "SSE_S3" {
		t.Errorf("workgroup configuration %v", cfg)
	}
	loc := rc["OutputLocation"].(string)
	var resultsID string
	for id := range s.resources("AWS::S3::Bucket") {
		if strings.HasPrefix(id, "AthenaResultsBucket") {
			resultsID = id
		}
	}
	if resultsID == "" || loc != "s3://<"+resultsID+">/" {
		t.Errorf("results at %s, bucket %s", loc, resultsID)
	}
	bucket := props(s.resources("AWS::S3::Bucket")[resultsID])
	if bucket["BucketEncryption"] == nil || bucket["PublicAccessBlockConfiguration"] == nil || bucket["LoggingConfiguration"] == nil {
		t.Errorf("results bucket is not built like the others: %v", bucket)
	}
	// AND the example query names the first sender and an escaped log group,
	// with equality on both injected keys
	q := e.eval(t, s.json["Outputs"].(map[string]any)["AthenaQueryExample"].(map[string]any)["Value"]).(string)
	for _, want := range []string{"FROM logfan.logs ", "owner = '111111111111'", "log_group = '%2Faws%2Flambda%2Forders'", "dt = CAST(current_date AS varchar)"} {
		if !strings.Contains(q, want) {
			t.Errorf("example query %q lacks %q", q, want)
		}
	}
	// AND in organization mode it names the recipient account
	o := orgStack(t)
	q = newEvaluator(o.json, nil).eval(t, o.json["Outputs"].(map[string]any)["AthenaQueryExample"].(map[string]any)["Value"]).(string)
	if !strings.Contains(q, "owner = '"+o.settings.Account+"'") {
		t.Errorf("organization mode example %q", q)
	}
}

func TestAthenaSwitchedOff(t *testing.T) {
	for name, overrides := range map[string]map[string]any{
		"athenaEnabled=false": {CtxSenderAccounts: "111111111111", CtxAthenaEnabled: false},
		"no s3 sink":          {CtxSenderAccounts: "111111111111", CtxS3Enabled: false},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, "athena-off-"+name, overrides)
			for _, typ := range []string{"AWS::Glue::Database", "AWS::Glue::Table", "AWS::Athena::WorkGroup"} {
				if n := len(s.resources(typ)); n != 0 {
					t.Errorf("%d %s", n, typ)
				}
			}
			if _, ok := s.json["Outputs"].(map[string]any)["AthenaQueryExample"]; ok {
				t.Error("AthenaQueryExample output without a table")
			}
		})
	}
}

func TestTableName(t *testing.T) {
	for in, want := range map[string]string{"logs": "logs", "Logs/App-1": "logs_app_1", "a.b": "a_b"} {
		if got := TableName(in); got != want {
			t.Errorf("TableName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestParquetFunctionAsset: with s3Format=parquet the S3 function deploys
// the s3parquet build, which links the Parquet writer the s3 build leaves out.
func TestParquetFunctionAsset(t *testing.T) {
	s := parquetStack(t)
	raw, err := os.ReadFile(filepath.Join(s.outdir, s.settings.StackName+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var written map[string]any
	if err := json.Unmarshal(raw, &written); err != nil {
		t.Fatal(err)
	}
	fn := written["Resources"].(map[string]any)[naming.FunctionLogicalID(config.SinkS3)].(map[string]any)
	rel, _ := fn["Metadata"].(map[string]any)["aws:asset:path"].(string)
	got, err := os.ReadFile(filepath.Join(s.outdir, rel, "bootstrap"))
	if err != nil || string(got) != placeholderBinary("s3parquet") {
		t.Errorf("S3Function asset %s holds %q (%v), want the s3parquet build", rel, got, err)
	}
}
