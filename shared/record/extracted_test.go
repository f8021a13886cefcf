package record_test

import (
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink"
)

// TestAppendLinePrettyExtractedFields: a decoded event whose extractedFields
// the sender pretty-printed is still one NDJSON line, escaped like the rest.
func TestAppendLinePrettyExtractedFields(t *testing.T) {
	prettyfields.Test(t, func(b *sink.Batch) ([]byte, error) {
		var out []byte
		for _, r := range b.Records {
			for i := range r.Message.LogEvents {
				out = record.AppendLine(out, r.Message, &r.Message.LogEvents[i])
			}
		}
		return out, nil
	})
}
