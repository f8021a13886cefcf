package firehosesink

import (
	"fmt"
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
	"github.com/logfan/logfan/shared/sink"
)

// TestPrettyExtractedFields: the Firehose records hold one NDJSON line per
// event, whatever layout the sender gave extractedFields.
func TestPrettyExtractedFields(t *testing.T) {
	prettyfields.Test(t, func(b *sink.Batch) ([]byte, error) {
		calls, over := plan(t, b, DefaultLimits(), false)
		if len(over) != 0 {
			return nil, fmt.Errorf("oversize events %v", over)
		}
		var ndjson []byte
		for _, c := range calls {
			for _, r := range c {
				ndjson = append(ndjson, r.data...)
			}
		}
		return ndjson, nil
	})
}
