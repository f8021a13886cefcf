// Package s3parquet builds the S3 sink writing Parquet objects (parquet-go,
// see shared/parquetrec), for the s3parquet function. It is a package of its
// own so that the S3 function, which writes gzip NDJSON, does not link the
// Parquet library (it would more than double that binary).
package s3parquet

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/parquetrec"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/s3sink"
)

// Format is Parquet as an S3 sink object format.
func Format() s3sink.Columnar {
	return s3sink.Columnar{
		NewWriter:   func() s3sink.ColumnarWriter { return parquetrec.NewWriter() },
		Size:        parquetrec.Size,
		Extension:   s3layout.ExtParquet,
		ContentType: parquetrec.ContentType,
	}
}

// Build builds the Parquet S3 sink (an app.Builder); the configuration must
// ask for Parquet, so that the stack and the binary cannot disagree.
func Build(awsCfg aws.Config, cfg *config.Config, policy retry.Policy) (sink.Sink, error) {
	if cfg.S3.Format != s3layout.FormatParquet {
		return nil, fmt.Errorf("%s=%q: the s3parquet function writes Parquet only; deploy the s3 function for gzip NDJSON", config.EnvS3Format, cfg.S3.Format)
	}
	return s3sink.New(awsclient.S3(awsCfg), cfg.S3, s3sink.WithRetry(policy), s3sink.WithColumnar(Format())), nil
}
