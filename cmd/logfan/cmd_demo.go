package main

import "github.com/logfan/logfan/internal/cmd/demo"

func init() {
	register("demo", "run the main job end to end on a local moto: senders, stream, three sinks, reconciliation", demo.Run)
}
