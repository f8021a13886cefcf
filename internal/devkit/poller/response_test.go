package poller

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func recs(seqs ...string) []types.Record {
	out := make([]types.Record, len(seqs))
	for i, s := range seqs {
		out[i] = types.Record{SequenceNumber: aws.String(s), PartitionKey: aws.String("pk"), Data: []byte("d" + s)}
	}
	return out
}

func TestRetryFrom(t *testing.T) {
	batch := recs("8", "9", "10", "11")
	tests := []struct {
		name string
		resp string
		want int
	}{
		{"empty response is success", ``, -1},
		{"null response is success", `null`, -1},
		{"empty object is success", `{}`, -1},
		{"null list is success", `{"batchItemFailures":null}`, -1},
		{"empty list is success", `{"batchItemFailures":[]}`, -1},
		{"one failure", `{"batchItemFailures":[{"itemIdentifier":"10"}]}`, 2},
		// "9" < "10" numerically although not as strings: moto's short sequence numbers catch string order.
		{"lowest of several, numerically", `{"batchItemFailures":[{"itemIdentifier":"10"},{"itemIdentifier":"9"}]}`, 1},
		{"empty identifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":""}]}`, 0},
		{"null identifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":null}]}`, 0},
		{"bad key name fails the batch", `{"batchItemFailures":[{"itemId":"10"}]}`, 0},
		{"unknown identifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":"99"}]}`, 0},
		{"not JSON fails the batch", `oops`, 0},
		{"not an object fails the batch", `"ok"`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := retryFrom([]byte(tc.resp), batch)
			if got != tc.want {
				t.Fatalf("retryFrom(%s) = %d (%s), want %d", tc.resp, got, reason, tc.want)
			}
			if (got >= 0) != (reason != "") {
				t.Fatalf("reason %q does not match index %d", reason, got)
			}
		})
	}
}
