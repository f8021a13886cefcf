package main

import "github.com/logfan/logfan/internal/cmd/plan"

func init() {
	register("plan", "size a deployment for a daily log volume: shards, settings, quotas and a monthly bill", plan.Run)
}
