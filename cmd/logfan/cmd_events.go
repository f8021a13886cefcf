package main

import "github.com/logfan/logfan/internal/cmd/events"

func init() {
	register("events", "generate the sample Lambda events in events/ from events/src (deterministic)", events.Run)
}
