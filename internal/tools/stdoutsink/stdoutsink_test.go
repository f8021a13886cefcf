package stdoutsink

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
	"github.com/logfan/logfan/shared/sink"
)

// TestPrettyExtractedFields: one line per event on stdout, whatever layout
// the sender gave extractedFields.
func TestPrettyExtractedFields(t *testing.T) {
	prettyfields.Test(t, func(b *sink.Batch) ([]byte, error) {
		var out bytes.Buffer
		if res := New(&out).Deliver(context.Background(), b); res.Err != nil || res.Delivered != b.Events() {
			return nil, fmt.Errorf("Deliver = %+v", res)
		}
		return out.Bytes(), nil
	})
}
