package firehosesink

import (
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
)

// TestPrettyExtractedFields: the Firehose records hold one NDJSON line per
// event, whatever layout the sender gave extractedFields.
func TestPrettyExtractedFields(t *testing.T) {
	b, err := prettyfields.Batch()
	if err != nil {
		t.Fatal(err)
	}
	calls, over := plan(t, b, DefaultLimits(), false)
	if len(over) != 0 {
		t.Fatalf("oversize events %v", over)
	}
	var ndjson []byte
	for _, c := range calls {
		for _, r := range c {
			ndjson = append(ndjson, r.data...)
		}
	}
	if err := prettyfields.Check(ndjson); err != nil {
		t.Error(err)
	}
}
