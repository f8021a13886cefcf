package stdoutsink

import (
	"bytes"
	"context"
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
)

// TestPrettyExtractedFields: one line per event on stdout, whatever layout
// the sender gave extractedFields.
func TestPrettyExtractedFields(t *testing.T) {
	b, err := prettyfields.Batch()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if res := New(&out).Deliver(context.Background(), b); res.Err != nil || res.Delivered != b.Events() {
		t.Fatalf("Deliver = %+v", res)
	}
	if err := prettyfields.Check(out.Bytes()); err != nil {
		t.Error(err)
	}
}
