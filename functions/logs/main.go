// Command logs is the logfan consumer that delivers log events to
// a CloudWatch Logs group in another region. Its logic lives in shared/.
package main

import (
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
)

func main() { app.Main(config.SinkLogs, app.Logs) }
