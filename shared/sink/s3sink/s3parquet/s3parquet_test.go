package s3parquet

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink/s3sink"
)

// The stack picks the binary from s3Format; a binary given the other format
// fails its cold start with a clear error instead of writing the wrong one.
// (internal/devkit/athenacheck runs this builder end to end on moto and DuckDB.)
func TestBuildersRefuseTheOtherFormat(t *testing.T) {
	parquet := &config.Config{Sink: config.SinkS3, S3: config.S3{Bucket: "b", Format: s3layout.FormatParquet}}
	ndjson := &config.Config{Sink: config.SinkS3, S3: config.S3{Bucket: "b", Format: s3layout.FormatNDJSON}}
	if s, err := Build(aws.Config{}, parquet, retry.Default()); err != nil || s == nil {
		t.Fatalf("parquet: %v", err)
	}
	if _, err := Build(aws.Config{}, ndjson, retry.Default()); err == nil || !strings.Contains(err.Error(), "s3 function") {
		t.Errorf("s3parquet given ndjson: %v", err)
	}
	if _, err := s3sink.Build(aws.Config{}, parquet, retry.Default()); err == nil || !strings.Contains(err.Error(), "s3parquet function") {
		t.Errorf("s3 given parquet: %v", err)
	}
	if f := Format(); f.Extension != ".parquet" || f.ContentType != "application/vnd.apache.parquet" || f.NewWriter() == nil {
		t.Errorf("format %+v", f)
	}
}
