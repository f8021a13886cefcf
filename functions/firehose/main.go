// Command firehose is the logfan consumer that delivers log events to
// an Amazon Data Firehose stream. Its logic lives in shared/.
package main

import (
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
)

func main() { app.Main(config.SinkFirehose, app.Firehose) }
