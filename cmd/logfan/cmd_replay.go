package main

import "github.com/logfan/logfan/internal/cmd/replay"

func init() {
	register("replay", "run a Lambda event file through a real handler (stdout, s3, firehose or logs)", replay.Run)
}
