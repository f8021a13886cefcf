package invocation_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// genInvocation is a generated Lambda Kinesis event: records of
// CloudWatch Logs subscription payloads, as the event source mapping sends.
type genInvocation struct {
	payload      []byte // the Lambda event JSON
	events       int    // log events in all records
	uncompressed int    // bytes of subscription JSON in all records
	records      int
}

// generate builds an event of `records` records with `perRecord` log
// events each. Messages mix application text with random tokens so that
// gzip achieves about 3:1, which makes 100 x 100 events about 1.3 MB.
func generate(tb testing.TB, seed uint64, records, perRecord int) genInvocation {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 42))
	type kinesis struct {
		KinesisSchemaVersion        string  `json:"kinesisSchemaVersion"`
		PartitionKey                string  `json:"partitionKey"`
		SequenceNumber              string  `json:"sequenceNumber"`
		Data                        string  `json:"data"`
		ApproximateArrivalTimestamp float64 `json:"approximateArrivalTimestamp"`
	}
	type record struct {
		Kinesis           kinesis `json:"kinesis"`
		EventSource       string  `json:"eventSource"`
		EventVersion      string  `json:"eventVersion"`
		EventID           string  `json:"eventID"`
		EventName         string  `json:"eventName"`
		InvokeIdentityArn string  `json:"invokeIdentityArn"`
		AwsRegion         string  `json:"awsRegion"`
		EventSourceARN    string  `json:"eventSourceARN"`
	}
	g := genInvocation{records: records}
	var ev struct {
		Records []record `json:"Records"`
	}
	for r := range records {
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"messageType":"DATA_MESSAGE","owner":"111111111111","logGroup":"/ecs/checkout","logStream":"app/%016x","subscriptionFilters":["logfan"],"logEvents":[`, rng.Uint64())
		for i := range perRecord {
			if i > 0 {
				sb.WriteByte(',')
			}
			msg := fmt.Sprintf(`{"level":"info","msg":"request done","path":"/api/v1/orders/%d","status":%d,"trace":"%016x%016x","ms":%.2f}`,
				rng.IntN(1e6), []int{200, 201, 404, 500}[rng.IntN(4)], rng.Uint64(), rng.Uint64(), rng.Float64()*100)
			for range 11 {
				msg += fmt.Sprintf(" %08x", rng.Uint32())
			}
			m, _ := json.Marshal(msg)
			fmt.Fprintf(&sb, `{"id":"3195310660696698337880902507980421114328961542%08d","timestamp":%d,"message":%s}`, r*perRecord+i, 1714564800000+int64(i), m)
		}
		sb.WriteString("]}")
		g.uncompressed += sb.Len()
		g.events += perRecord
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		if _, err := zw.Write([]byte(sb.String())); err != nil {
			tb.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			tb.Fatal(err)
		}
		seq := fmt.Sprintf("4959033827149025660855969253836157109592157598913%07d", r)
		ev.Records = append(ev.Records, record{
			Kinesis: kinesis{
				KinesisSchemaVersion: "1.0", PartitionKey: fmt.Sprintf("/ecs/checkout-%d", r%7),
				SequenceNumber: seq, Data: base64.StdEncoding.EncodeToString(zb.Bytes()),
				ApproximateArrivalTimestamp: 1714564800.123 + float64(r),
			},
			EventSource: "aws:kinesis", EventVersion: "1.0", EventID: "shardId-000000000003:" + seq,
			EventName: "aws:kinesis:record", InvokeIdentityArn: "arn:aws:iam::222222222222:role/logfan-consumer",
			AwsRegion: "eu-west-1", EventSourceARN: "arn:aws:kinesis:eu-west-1:222222222222:stream/logfan",
		})
	}
	var err error
	if g.payload, err = json.Marshal(ev); err != nil {
		tb.Fatal(err)
	}
	return g
}
