package main

import "github.com/logfan/logfan/internal/tools/routecheck"

func init() {
	register("routes", "dry-run a route table over Lambda event files: where each log event would go", routecheck.Run)
}
