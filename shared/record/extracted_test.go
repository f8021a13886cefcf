package record_test

import (
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
	"github.com/logfan/logfan/shared/record"
)

// TestAppendLinePrettyExtractedFields: a decoded event whose extractedFields
// the sender pretty-printed is still one NDJSON line, escaped like the rest.
func TestAppendLinePrettyExtractedFields(t *testing.T) {
	m, err := prettyfields.Message()
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for i := range m.LogEvents {
		out = record.AppendLine(out, m, &m.LogEvents[i])
	}
	if err := prettyfields.Check(out); err != nil {
		t.Error(err)
	}
}
