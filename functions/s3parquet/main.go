// Command s3parquet is the logfan consumer that delivers log events to
// Amazon S3 as Parquet files partitioned for Athena (s3Format=parquet). It
// is the s3 function with a Parquet writer, a binary of its own so that the
// NDJSON one does not carry the Parquet library. Its logic lives in shared/.
package main

import (
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink/s3sink/s3parquet"
)

func main() { app.Main(config.SinkS3, s3parquet.Build) }
