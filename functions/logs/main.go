// Command logs is the logfan consumer that delivers log events to
// a CloudWatch Logs group in another region. Its logic lives in shared/; it links only its own sink.
package main

import (
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink/logssink"
)

func main() { app.Main(config.SinkLogs, logssink.Build) }
