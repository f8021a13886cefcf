package main

import "github.com/logfan/logfan/internal/cmd/redrive"

func init() {
	register("redrive", "re-process Lambda's on-failure records and the quarantine through a sink, once the cause is fixed", redrive.Run)
}
