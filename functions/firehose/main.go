// Command firehose is the logfan consumer that delivers log events to
// an Amazon Data Firehose stream. Its logic lives in shared/; it links only its own sink.
package main

import (
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink/firehosesink"
)

func main() { app.Main(config.SinkFirehose, firehosesink.Build) }
