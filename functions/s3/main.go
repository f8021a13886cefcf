// Command s3 is the logfan consumer that delivers log events to
// Amazon S3 as gzip NDJSON partitioned for Athena. Its logic lives in shared/; it links only its own sink.
package main

import (
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink/s3sink"
)

func main() { app.Main(config.SinkS3, s3sink.Build) }
