package main

import "github.com/logfan/logfan/internal/cmd/routes"

func init() {
	register("routes", "dry-run a route table over Lambda event files: where each log event would go", routes.Run)
}
