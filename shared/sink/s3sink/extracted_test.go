package s3sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/logfan/logfan/internal/devkit/fakeaws"
	"github.com/logfan/logfan/internal/devkit/prettyfields"
	"github.com/logfan/logfan/shared/sink"
)

// TestPrettyExtractedFields: an object holds one NDJSON line per event,
// whatever layout the sender gave extractedFields.
func TestPrettyExtractedFields(t *testing.T) {
	prettyfields.Test(t, func(b *sink.Batch) ([]byte, error) {
		f := &fakeaws.S3{}
		if res := newSink(f).Deliver(context.Background(), b); res.Err != nil || res.Delivered != b.Events() {
			return nil, fmt.Errorf("Deliver = %+v", res)
		}
		if keys := f.Keys(); len(keys) != 1 {
			return nil, fmt.Errorf("objects %v, want one", keys)
		}
		zr, err := gzip.NewReader(bytes.NewReader(f.Objects()[f.Keys()[0]]))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	})
}
