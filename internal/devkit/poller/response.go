package poller

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logfan/logfan/shared/invocation"
)

// response is the part of a function's response Lambda reads when the event
// source mapping has FunctionResponseTypes [ReportBatchItemFailures].
type response struct {
	BatchItemFailures []struct {
		// A pointer, so that a missing key ("bad key name") is told apart from a value.
		ItemIdentifier *string `json:"itemIdentifier"`
	} `json:"batchItemFailures"`
}

// retryFrom reads a function's response as Lambda does and returns the index
// in batch of the record to retry from (-1: the whole batch succeeded) and,
// when one is set, why.
//
// Lambda checkpoints before the LOWEST reported sequence number. An empty
// or null batchItemFailures, an empty or null response, is complete
// success; an empty or null itemIdentifier, or an entry without that key,
// fails the whole batch. Two cases the documentation leaves open are also
// treated as failing the whole batch, since retrying can duplicate but
// never lose: a response that is not a JSON object, and an identifier that
// is not a sequence number of the batch.
// https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
func retryFrom(resp []byte, batch []types.Record) (int, string) {
	resp = bytes.TrimSpace(resp)
	if len(resp) == 0 || bytes.Equal(resp, []byte("null")) {
		return -1, ""
	}
	var r response
	if err := json.Unmarshal(resp, &r); err != nil {
		return 0, fmt.Sprintf("response is not a batchItemFailures object: %v", err)
	}
	lowest := ""
	for _, f := range r.BatchItemFailures {
		id := aws.ToString(f.ItemIdentifier)
		if id == "" {
			return 0, "empty or missing itemIdentifier: the whole batch fails"
		}
		if lowest == "" || invocation.CompareSequenceNumbers(id, lowest) < 0 {
			lowest = id
		}
	}
	if lowest == "" {
		return -1, ""
	}
	for i := range batch {
		if aws.ToString(batch[i].SequenceNumber) == lowest {
			return i, "batchItemFailures reported " + lowest
		}
	}
	return 0, fmt.Sprintf("itemIdentifier %s is not in the batch: the whole batch fails", lowest)
}
