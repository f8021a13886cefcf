package s3sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/logfan/logfan/internal/devkit/prettyfields"
)

// TestPrettyExtractedFields: an object holds one NDJSON line per event,
// whatever layout the sender gave extractedFields.
func TestPrettyExtractedFields(t *testing.T) {
	b, err := prettyfields.Batch()
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	if res := newSink(f).Deliver(context.Background(), b); res.Err != nil || res.Delivered != b.Events() {
		t.Fatalf("Deliver = %+v", res)
	}
	keys := f.keys()
	if len(keys) != 1 {
		t.Fatalf("objects %v, want one", keys)
	}
	zr, err := gzip.NewReader(bytes.NewReader(f.objects[keys[0]]))
	if err != nil {
		t.Fatal(err)
	}
	ndjson, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := prettyfields.Check(ndjson); err != nil {
		t.Error(err)
	}
}
