package main

import "github.com/logfan/logfan/internal/cmd/backfill"

func init() {
	register("backfill", "put a sender's log history (before its subscription) into the recipient's stream as subscription payloads", backfill.Run)
}
